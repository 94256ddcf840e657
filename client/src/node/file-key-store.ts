/**
 * Keys in a file for Node programs, created with mode 0600 (owner read and
 * write only) and refused if anyone else can read it, since whoever reads
 * the seed is the identity.
 *
 * @example
 * ```ts
 * import { FileKeyStore } from '@vivim/client/node'
 * const alice = await loadOrCreateIdentity(new FileKeyStore(`${os.homedir()}/.vivim/keys.json`))
 * ```
 */
import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { ErrorCode, VivimError } from '@vivim/shared'
import type { KeyStore } from '../key-store.ts'

export class FileKeyStore implements KeyStore {
  readonly path: string

  constructor(path: string) {
    this.path = path
  }

  async load(): Promise<string | null> {
    let mode: number
    try {
      mode = (await stat(this.path)).mode
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
      throw error
    }
    if ((mode & 0o077) !== 0) {
      throw new VivimError(
        ErrorCode.InvalidKey,
        `${this.path} is readable by others (mode ${(mode & 0o777).toString(8)}); chmod 600 it`,
      )
    }
    return readFile(this.path, 'utf8')
  }

  /** Writes the exported keys atomically, readable by the owner only (0600). */
  async save(exported: string): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 })
    const temp = `${this.path}.${process.pid}.tmp`
    await writeFile(temp, exported, { mode: 0o600 })
    await chmod(temp, 0o600)
    await rename(temp, this.path)
  }
}
