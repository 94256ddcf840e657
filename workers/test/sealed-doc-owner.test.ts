import { env } from 'cloudflare:test'
import {
  type Action,
  type Capability,
  ErrorCode,
  encodeCapabilityText,
  generateIdentity,
  type Identity,
  issueCapability,
} from '@vivim/shared'
import { describe, expect, it } from 'vitest'
import { edgeIdentity } from '../auth/edge-identity.ts'
import { DocPeer } from './doc-peer.ts'
import { SealedPeer } from './sealed-peer.ts'

const edge = edgeIdentity(env)
const alice = generateIdentity()
const bob = generateIdentity()
const EXP = Date.now() + 3_600_000

const token = (issuer: Identity, res: string, can: Action[], prf?: Capability) =>
  encodeCapabilityText(issueCapability(issuer, { aud: edge.did, res, can, exp: EXP, prf: prf ? [prf] : [] }))

/** Any key serves: the room never decrypts, and these tests send raw bytes as ciphertext. */
const key = crypto.getRandomValues(new Uint8Array(32))
const open = (docId: string, credential: string) => SealedPeer.connect(docId, key, { token: credential })

describe('sealed document history', () => {
  it('a plain writer’s snapshot is refused and the history stays whole; the owner’s is stored', async () => {
    const docId = `circle:${crypto.randomUUID()}`
    const res = `doc:${docId}`
    await DocPeer.connect(docId, { token: token(alice, res, ['admin']) })
    const toBob = issueCapability(alice, { aud: bob.did, res, can: ['read', 'write'], exp: EXP })
    const writer = await open(docId, token(bob, res, ['read', 'write'], toBob))
    expect(await writer.request({ t: 'put', c: new Uint8Array([1]) })).toEqual({ t: 'ok', s: 1 })
    expect(await writer.request({ t: 'put', c: new Uint8Array([2]) })).toEqual({ t: 'ok', s: 2 })
    expect(await writer.request({ t: 'snap', upto: 2, c: new Uint8Array([9]) })).toMatchObject({
      t: 'err',
      code: ErrorCode.Forbidden,
    })
    const owner = await open(docId, token(alice, res, ['read', 'write']))
    await owner.until(() => owner.frames.some((f) => f.t === 'live'))
    expect(owner.frames.filter((f) => f.t === 'entry' || f.t === 'live')).toEqual([
      { t: 'entry', s: 1, snap: false, c: new Uint8Array([1]) },
      { t: 'entry', s: 2, snap: false, c: new Uint8Array([2]) },
      { t: 'live', s: 2 },
    ])
    expect(await owner.request({ t: 'snap', upto: 2, c: new Uint8Array([9]) })).toEqual({ t: 'ok', s: 2 })
  })
})
