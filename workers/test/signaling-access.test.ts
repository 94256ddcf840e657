import { env } from 'cloudflare:test'
import {
  type Capability,
  CloseCode,
  ErrorCode,
  encodeCapabilityText,
  generateIdentity,
  type Identity,
  issueCapability,
  Limits,
} from '@vivim/shared'
import { describe, expect, it } from 'vitest'
import { edgeIdentity } from '../auth/edge-identity.ts'
import { DocPeer } from './doc-peer.ts'
import { invoke, revoke } from './doc-tokens.ts'
import { SignalingPeer } from './signaling-peer.ts'
import { refusal } from './socket-peer.ts'

const _edge = edgeIdentity(env)
const alice = generateIdentity()
const bob = generateIdentity()
const mallory = generateIdentity()
const EXP = Date.now() + 3_600_000

const grant = (res: string, to: Identity) =>
  issueCapability(alice, { aud: to.did, res, can: ['read', 'write'], exp: EXP })
const text = (token: Capability) => encodeCapabilityText(token)

/** A circle document Alice creates (and so owns) by opening it. */
async function alicesCircle(): Promise<string> {
  const docId = `circle:${crypto.randomUUID()}`
  await DocPeer.connect(docId, { token: text(invoke(alice, `doc:${docId}`, ['admin'])) })
  return docId
}

describe('signaling access', () => {
  it('closes a socket 4408 when its token expires', async () => {
    const room = `profile:${alice.did}`
    const peer = await SignalingPeer.connect(text(invoke(alice, `doc:${room}`, ['read'], { exp: Date.now() + 1000 })))
    peer.send({ type: 'subscribe', topics: [room] })
    await peer.joinedAs(room, 'alice')
    expect((await peer.closedWith()).code).toBe(CloseCode.TokenExpired)
  })

  it('closes a socket 4401 when a link of its chain is revoked', async () => {
    const room = await alicesCircle()
    const toBob = grant(`doc:${room}`, bob)
    const peer = await SignalingPeer.connect(text(invoke(bob, `doc:${room}`, ['read'], { prf: toBob })))
    peer.send({ type: 'subscribe', topics: [room] })
    await peer.joinedAs(room, 'bob')
    expect((await revoke(alice, toBob)).status).toBe(200)
    expect((await peer.closedWith()).code).toBe(CloseCode.Unauthorized)
  })

  it('a token for document A joins room A but not room B (4403), and a stranger’s token joins neither', async () => {
    const [a, b] = [await alicesCircle(), await alicesCircle()]
    const peer = await SignalingPeer.connect(text(invoke(bob, `doc:${a}`, ['read'], { prf: grant(`doc:${a}`, bob) })))
    peer.send({ type: 'subscribe', topics: [a] })
    await peer.joinedAs(a, 'bob')
    expect(peer.closed).toBeNull()
    peer.send({ type: 'subscribe', topics: [b] })
    expect((await peer.closedWith()).code).toBe(CloseCode.Forbidden)

    // A self-issued token names a document someone else owns: refused at connect.
    expect(await refusal(`/v1/signaling?token=${text(invoke(mallory, `doc:${a}`, ['admin']))}`)).toEqual({
      status: 403,
      code: ErrorCode.NotOwner,
    })
    // A self-issued prefix connects, but covers only rooms its issuer owns.
    const squatter = await SignalingPeer.connect(text(invoke(mallory, 'doc:circle:*', ['admin'])))
    squatter.send({ type: 'subscribe', topics: [a] })
    expect((await squatter.closedWith()).code).toBe(CloseCode.Forbidden)
  })

  it('refuses (4403) a publish to a room the socket did not join, and relays nothing of it', async () => {
    const a = await alicesCircle()
    const elsewhere = `room-${crypto.randomUUID()}`
    const listener = await SignalingPeer.connect()
    listener.send({ type: 'subscribe', topics: [elsewhere] })
    await listener.joinedAs(elsewhere, 'listener')
    const peer = await SignalingPeer.connect(text(invoke(alice, `doc:${a}`, ['write'])))
    peer.send({ type: 'subscribe', topics: [a] })
    await peer.joinedAs(a, 'alice')
    peer.announce(elsewhere, 'intruder')
    expect((await peer.closedWith()).code).toBe(CloseCode.Forbidden)
    await listener.joinedAs(elsewhere, 'listener-after')
    expect(listener.announcementsFrom('intruder')).toEqual([])
  })

  it('closes a byte flood 4429 while a pair in another room keeps signaling', async () => {
    const [floodRoom, room] = [`flood-${crypto.randomUUID()}`, `room-${crypto.randomUUID()}`]
    const a = await SignalingPeer.connect()
    const b = await SignalingPeer.connect()
    for (const c of [a, b]) c.send({ type: 'subscribe', topics: [room] })
    const flooder = await SignalingPeer.connect()
    flooder.send({ type: 'subscribe', topics: [floodRoom] })
    // Ten messages just under the size limit: far below the frame rate, far above the byte budget.
    const big = 'x'.repeat(Limits.maxSignalingMessageBytes - 100)
    for (let i = 0; i < 10; i++) flooder.send({ type: 'publish', topic: floodRoom, data: big })
    a.announce(room, 'peer-a')
    b.announce(room, 'peer-b')
    await b.until(() => b.announcementsFrom('peer-a').length === 1)
    await a.until(() => a.announcementsFrom('peer-b').length === 1)
    expect((await flooder.closedWith()).code).toBe(CloseCode.RateLimited)
    a.announce(room, 'peer-a-again')
    await b.until(() => b.announcementsFrom('peer-a-again').length === 1)
  })

  it('one identity holds at most the limit of signaling sockets', async () => {
    const room = await alicesCircle()
    const token = () => text(invoke(alice, `doc:${room}`, ['read']))
    for (let i = 0; i < Limits.maxSocketsPerIdentity; i++) await SignalingPeer.connect(token())
    expect(await refusal(`/v1/signaling?token=${token()}`)).toEqual({ status: 429, code: ErrorCode.RateLimited })
    const other = await SignalingPeer.connect(
      text(invoke(bob, `doc:${room}`, ['read'], { prf: grant(`doc:${room}`, bob) })),
    )
    other.send({ type: 'subscribe', topics: [room] })
    await other.joinedAs(room, 'bob')
  })
})
