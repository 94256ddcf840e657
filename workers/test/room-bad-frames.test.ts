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
import { type Closed, openSocket } from './doc-peer.ts'

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
    // Not `ping`: the runtime answers that one itself, free of any budget.
    harmless: JSON.stringify({ type: 'subscribe', topics: [] }),
  },
]

/** A raw socket on `path` that records how it closed. */
async function peer(path: string): Promise<{ ws: WebSocket; closed: () => Promise<Closed>; isOpen: () => boolean }> {
  const ws = await openSocket(path)
  let closed: Closed | null = null
  const whenClosed = new Promise<Closed>((resolve) =>
    ws.addEventListener('close', (event) => {
      closed = { code: event.code, reason: event.reason }
      resolve(closed)
    }),
  )
  return { ws, closed: () => whenClosed, isOpen: () => closed === null }
}

/** Sends what `offend` sends on one socket and checks it alone is closed with `code`. */
async function offenderAlone(endpoint: Endpoint, code: CloseCode, offend: (ws: WebSocket) => void): Promise<void> {
  const path = endpoint.path()
  const bystander = await peer(path)
  const offender = await peer(path)
  offend(offender.ws)
  const closed = await offender.closed()
  expect(closed.code).toBe(code)
  expect(closed.reason.length).toBeGreaterThan(0)
  const newcomer = await peer(path)
  expect(bystander.isOpen()).toBe(true)
  expect(newcomer.isOpen()).toBe(true)
  bystander.ws.close(1000)
  newcomer.ws.close(1000)
}

describe.each(ENDPOINTS)('the $name refuses bad frames and harms no one else', (endpoint) => {
  it('a frame of the wrong kind', () =>
    offenderAlone(endpoint, CloseCode.UnsupportedData, (ws) => ws.send(endpoint.text ? Uint8Array.of(1) : 'hello')))

  it('a frame that does not decode', () => offenderAlone(endpoint, CloseCode.BadFrame, (ws) => ws.send(endpoint.junk)))

  it('a frame over the size limit', () =>
    offenderAlone(endpoint, CloseCode.MessageTooBig, (ws) =>
      ws.send(endpoint.text ? 'x'.repeat(endpoint.maxBytes + 1) : new Uint8Array(endpoint.maxBytes + 1)),
    ))

  it('a flood of frames past the per-socket rate', () =>
    offenderAlone(endpoint, CloseCode.RateLimited, (ws) => {
      for (let i = 0; i < Limits.frameBurst * 10; i++) ws.send(endpoint.harmless)
    }))
})
