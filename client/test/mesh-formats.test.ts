/**
 * The mesh's formats against `shared/fixtures/mesh.json`, which another
 * implementation checks itself against too (`docs/bridge.md`, Browser peers).
 */
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { rendezvousKey } from '@vivim/client/mesh'
import { gossipMessageIdAsync, gossipMessageIdOf } from '@vivim/shared/mesh'
import { CID } from 'multiformats/cid'
import { describe, expect, it } from 'vitest'

interface MeshFixtures {
  rendezvous: { name: string; key: string }[]
  gossipMessageIds: { data: string; id: string }[]
}

const fixtures = JSON.parse(
  readFileSync(join(import.meta.dirname, '../../shared/fixtures/mesh.json'), 'utf8'),
) as MeshFixtures
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')

describe('mesh formats', () => {
  it.each(fixtures.rendezvous)('the rendezvous key of $name', async ({ name, key }) => {
    expect((await rendezvousKey(name)).toString()).toBe(key)
    // As the docs spell it: CID v1 (0x01), codec raw (0x55), multihash sha2-256 (0x12, 32 bytes).
    const digest = createHash('sha256').update(`vivim:mesh:${name}`).digest()
    expect(hex(CID.parse(key).bytes)).toBe(`01551220${hex(digest)}`)
  })

  it.each(fixtures.gossipMessageIds)('the Gossipsub message id of an envelope', async ({ data, id }) => {
    const bytes = Buffer.from(data, 'hex')
    expect(hex(gossipMessageIdOf(bytes))).toBe(id)
    expect(hex(await gossipMessageIdAsync({ data: bytes }))).toBe(id)
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(id)
  })
})
