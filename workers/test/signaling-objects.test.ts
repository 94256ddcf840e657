/**
 * The signaling objects' own entry points, reached as only the Worker
 * reaches them (through their bindings), fed what the Worker never sends:
 * a room takes member links and relays text within the size limit, a lease
 * takes an upgrade carrying the edge's access decision and no frames. Each
 * refusal closes the offending link or lease alone.
 */
import { env } from 'cloudflare:test'
import { CloseCode, ErrorCode, Limits } from '@vivim/shared'
import { describe, expect, it } from 'vitest'
import { connectRequest } from '../relay/room-headers.ts'
import { SignalingPeer } from './signaling-peer.ts'
import { SocketPeer } from './socket-peer.ts'

const UPGRADE = { headers: { Upgrade: 'websocket' } }

/** A member link to room `name`, opened as the Worker opens one. */
async function link(name: string): Promise<SocketPeer> {
  const response = await env.SIGNALING_ROOM.getByName(name).fetch(
    new Request('https://signaling.internal/member', UPGRADE),
  )
  expect(response.status).toBe(101)
  return SocketPeer.accept(response.webSocket as WebSocket)
}

const errorCode = async (response: Response) => ((await response.json()) as { error: { code: string } }).error.code

describe('a signaling room object', () => {
  it('answers a plain request 426', async () => {
    const response = await env.SIGNALING_ROOM.getByName('plain').fetch(new Request('https://signaling.internal/member'))
    expect(response.status).toBe(426)
    expect(await errorCode(response)).toBe(ErrorCode.UpgradeRequired)
  })

  it.each([
    ['a binary frame', Uint8Array.of(1), CloseCode.UnsupportedData],
    ['a message over the size limit', 'x'.repeat(Limits.maxSignalingMessageBytes + 1), CloseCode.MessageTooBig],
  ])('closes a link that sends %s, relays nothing of it, and its members keep signaling', async (_, frame, code) => {
    const room = `objects-${crypto.randomUUID()}`
    const member = await SignalingPeer.connect()
    member.send({ type: 'subscribe', topics: [room] })
    await member.joinedAs(room, 'member')
    const offender = await link(room)
    offender.send(frame)
    expect((await offender.closedWith()).code).toBe(code)
    await member.joinedAs(room, 'member-after')
    expect(member.frames).toHaveLength(2)
  })

  it('relays a link’s text to every member, the sender included', async () => {
    const room = `objects-${crypto.randomUUID()}`
    const [one, two] = [await link(room), await link(room)]
    one.send('{"type":"publish"}')
    await two.until(() => two.frames.length === 1)
    await one.until(() => one.frames.length === 1)
    expect([one.frames, two.frames]).toEqual([['{"type":"publish"}'], ['{"type":"publish"}']])
  })
})

describe('a signaling lease object', () => {
  const access = {
    did: 'did:key:z6MkLeaseTest',
    canRead: true,
    canWrite: false,
    exp: null,
    tokens: [],
    newOwner: null,
  }

  it('answers a plain request 426, and an upgrade without the edge’s access decision 400', async () => {
    const stub = env.SIGNALING_LEASES.getByName(access.did)
    const plain = await stub.fetch(new Request('https://signaling.internal/lease'))
    expect([plain.status, await errorCode(plain)]).toEqual([426, ErrorCode.UpgradeRequired])
    const bare = await stub.fetch(new Request('https://signaling.internal/lease', UPGRADE))
    expect([bare.status, await errorCode(bare)]).toEqual([400, ErrorCode.BadRequest])
  })

  it('closes a lease that sends a frame 4400, and the identity’s other leases stay', async () => {
    const stub = env.SIGNALING_LEASES.getByName(`${access.did}-frames`)
    const open = async () =>
      SocketPeer.accept((await stub.fetch(connectRequest(access.did, access))).webSocket as WebSocket)
    const [kept, offender] = [await open(), await open()]
    offender.send('hello')
    expect((await offender.closedWith()).code).toBe(CloseCode.BadFrame)
    const newcomer = await open()
    expect(kept.closed).toBeNull()
    expect(newcomer.closed).toBeNull()
  })

  it('refuses a lease past the identity’s cap as a JSON error the Worker reads', async () => {
    const stub = env.SIGNALING_LEASES.getByName(`${access.did}-cap`)
    for (let i = 0; i < Limits.maxSocketsPerIdentity; i++) {
      expect((await stub.fetch(connectRequest(access.did, access))).status).toBe(101)
    }
    const refused = await stub.fetch(connectRequest(access.did, access))
    expect([refused.status, await errorCode(refused)]).toEqual([429, ErrorCode.RateLimited])
  })
})
