/**
 * The frames every socket endpoint must refuse, run against every one of
 * them: a frame of the wrong kind (text where the protocol is binary, or the
 * other way round), bytes that do not decode, a frame over the size limit,
 * and a flood past the per-socket frame rate. Each must close the offending
 * socket alone, with its close code and a reason, while a bystander on the
 * same room stays connected and a newcomer still gets in. What is particular
 * to one protocol (a malformed update, a stale snapshot, a forged envelope)
 * stays in that room's own tests.
 */
import { CloseCode, encodeSealedFrame, encodeTopicFrame, Limits, MessageType, TopicFrameType } from '@vivim/shared'
import { describe, expect, it } from 'vitest'
import { SocketPeer } from './socket-peer.ts'

interface Endpoint {
  readonly name: string
  /** A fresh room's path. */
  readonly path: () => string
  /** Whether the protocol's frames are text (signaling) rather than binary. */
  readonly text: boolean
  /** Bytes (or text) the protocol cannot decode. */
  readonly junk: Uint8Array | string
  /** The largest frame it takes. */
  readonly maxBytes: number
  /** A frame it takes and answers cheaply, to flood it with. */
  readonly harmless: Uint8Array | string
}

const ENDPOINTS: readonly Endpoint[] = [
  {
    name: 'document room',
    path: () => `/v1/docs/bad-${crypto.randomUUID()}`,
    text: false,
    junk: Uint8Array.of(7, 0),
    maxBytes: Limits.maxFrameBytes,
    harmless: Uint8Array.of(MessageType.QueryAwareness),
  },
  {
    name: 'sealed document room',
    path: () => `/v1/sealed/bad-${crypto.randomUUID()}`,
    text: false,
    junk: Uint8Array.of(1, 2, 3),
    maxBytes: Limits.maxFrameBytes,
    // A snapshot of entries the room does not have: answered `err`, nothing stored.
    harmless: encodeSealedFrame({ t: 'snap', upto: 1_000_000, c: new Uint8Array(1) }),
  },
  {
    name: 'topic room',
    path: () => `/v1/topics/user:updates:${crypto.randomUUID()}`,
    text: false,
    junk: Uint8Array.of(0xff),
    maxBytes: Limits.maxFrameBytes,
    harmless: encodeTopicFrame({ t: TopicFrameType.Ack, c: 0 }),
  },
  {
    name: 'signaling',
    path: () => '/v1/signaling',
    text: true,
    junk: '{nope',
    maxBytes: Limits.maxSignalingMessageBytes,
    // An empty subscribe: the Worker handles it within the socket's budgets, reaching no object.
    harmless: JSON.stringify({ type: 'subscribe', topics: [] }),
  },
]

/** Sends what `offend` sends on one socket and checks it alone is closed with `code`. */
async function offenderAlone(endpoint: Endpoint, code: CloseCode, offend: (peer: SocketPeer) => void): Promise<void> {
  const path = endpoint.path()
  const bystander = await SocketPeer.open(path)
  const offender = await SocketPeer.open(path)
  offend(offender)
  const closed = await offender.closedWith()
  expect(closed.code).toBe(code)
  expect(closed.reason.length).toBeGreaterThan(0)
  const newcomer = await SocketPeer.open(path)
  expect(bystander.closed).toBeNull()
  expect(newcomer.closed).toBeNull()
  bystander.close()
  newcomer.close()
}

describe.each(ENDPOINTS)('the $name refuses bad frames and harms no one else', (endpoint) => {
  it('a frame of the wrong kind', () =>
    offenderAlone(endpoint, CloseCode.UnsupportedData, (peer) => peer.send(endpoint.text ? Uint8Array.of(1) : 'hello')))

  it('a frame that does not decode', () =>
    offenderAlone(endpoint, CloseCode.BadFrame, (peer) => peer.send(endpoint.junk)))

  it('a frame over the size limit', () =>
    offenderAlone(endpoint, CloseCode.MessageTooBig, (peer) =>
      peer.send(endpoint.text ? 'x'.repeat(endpoint.maxBytes + 1) : new Uint8Array(endpoint.maxBytes + 1)),
    ))

  it('a flood of frames past the per-socket rate', () =>
    offenderAlone(endpoint, CloseCode.RateLimited, (peer) => {
      for (let i = 0; i < Limits.frameBurst * 10; i++) peer.send(endpoint.harmless)
    }))
})
