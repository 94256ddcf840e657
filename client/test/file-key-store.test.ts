import { chmod, mkdtemp, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ErrorCode } from '@vivim/shared'
import { describe, expect, it } from 'vitest'
import { loadOrCreateIdentity } from '../src/key-store.ts'
import { FileKeyStore } from '../src/node/file-key-store.ts'

describe('file key store', () => {
  it('creates keys in a 0600 file and loads the same identity again', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'vivim-keys-')), 'nested', 'keys.json')
    const first = await loadOrCreateIdentity(new FileKeyStore(path))
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    const again = await loadOrCreateIdentity(new FileKeyStore(path))
    expect(again.did).toBe(first.did)
  })

  it('refuses a key file others can read', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'vivim-keys-')), 'keys.json')
    await loadOrCreateIdentity(new FileKeyStore(path))
    await chmod(path, 0o644)
    await expect(new FileKeyStore(path).load()).rejects.toMatchObject({ code: ErrorCode.InvalidKey })
  })

  it('refuses a file that is not an export', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'vivim-keys-')), 'keys.json')
    await writeFile(path, 'not keys', { mode: 0o600 })
    await expect(loadOrCreateIdentity(new FileKeyStore(path))).rejects.toMatchObject({ code: ErrorCode.InvalidKey })
  })
})
