import { exports } from 'cloudflare:workers'
import {
  CloseCode,
  createEnvelope,
  ErrorCode,
  encodeCanonical,
  encodeEnvelope,
  generateIdentity,
  Limits,
  TopicFrameType,
} from '@vivim/shared'
import { describe, expect, it } from 'vitest'
import { DEV_READ_ONLY_TOKEN } from '../http/access.ts'
import { EDGE, refusal, withoutUpgrade } from './socket-peer.ts'
import { TopicPeer } from './topic-peer.ts'

const alice = generateIdentity()
const text = (s: string) => new TextEncoder().encode(s)
const freshTopic = () => `user:updates:${crypto.randomUUID()}`

/** Runs `offend` on one socket, expects `code`, and checks a bystander still gets later messages. */
async function offenderIsolated(code: CloseCode, offend: (peer: TopicPeer, topic: string) => void): Promise<void> {
  const topic = freshTopic()
  const bystander = await TopicPeer.connect(topic)
  const offender = await TopicPeer.connect(topic)
  await offender.until(() => offender.of(TopicFrameType.Live).length === 1)
  offend(offender, topic)
  expect((await offender.closedWith()).code).toBe(code)
  const publisher = await TopicPeer.connect(topic)
  publisher.publish(createEnvelope(alice, { topic, payload: text('after') }))
  await bystander.until(() => bystander.texts().includes('after'))
  expect(bystander.closed).toBeNull()
}

/** Publishes `envelope` on a socket and expects an `err` frame with `code`, the socket still open. */
async function refused(code: ErrorCode, build: (topic: string) => Parameters<TopicPeer['publish']>[0]) {
  const topic = freshTopic()
  const subscriber = await TopicPeer.connect(topic)
  const publisher = await TopicPeer.connect(topic)
  publisher.publish(build(topic))
  await publisher.until(() => publisher.of(TopicFrameType.Error).length === 1)
  expect(publisher.of(TopicFrameType.Error)[0]?.code).toBe(code)
  publisher.publish(createEnvelope(alice, { topic, payload: text('fine') }))
  await subscriber.until(() => subscriber.texts().length === 1)
  expect(subscriber.texts()).toEqual(['fine'])
  expect(publisher.closed).toBeNull()
}

// The frames every room refuses (wrong kind, undecodable, oversized, a flood) are in room-bad-frames.test.ts.
describe('topic rooms refuse bad input', () => {
  it('a CBOR frame of an unknown kind', () =>
    offenderIsolated(CloseCode.BadFrame, (p) => p.send(encodeCanonical({ t: 'sub', topic: 'x' }))))
  it('a publish whose envelope is malformed', () =>
    offenderIsolated(CloseCode.BadFrame, (p) => p.send(encodeCanonical({ t: 'pub', e: { topic: 'x' } }))))

  it('a bad signature', () =>
    refused(ErrorCode.InvalidSignature, (topic) => {
      const e = createEnvelope(alice, { topic, payload: text('x') })
      const signature = e.signature.slice()
      signature[0] = (signature[0] as number) ^ 1
      return { ...e, signature }
    }))
  it('a message for another topic', () =>
    refused(ErrorCode.InvalidEnvelope, () => createEnvelope(alice, { topic: freshTopic(), payload: text('x') })))
  it('an oversized payload', () =>
    refused(ErrorCode.ValueTooLarge, (topic) =>
      createEnvelope(alice, { topic, payload: new Uint8Array(Limits.maxTopicPayloadBytes + 1) }),
    ))
  it('a timestamp in the future', () =>
    refused(ErrorCode.TimestampInFuture, (topic) =>
      createEnvelope(alice, { topic, payload: text('x'), timestamp: Date.now() + Limits.maxClockSkewMs * 2 }),
    ))
  it('a message older than the history window', () =>
    refused(ErrorCode.StaleRecord, (topic) =>
      createEnvelope(alice, { topic, payload: text('x'), timestamp: Date.now() - 2 * 86_400_000 }),
    ))

  it('a publish from a read-only credential', async () => {
    const topic = freshTopic()
    const reader = await TopicPeer.connect(topic, { token: DEV_READ_ONLY_TOKEN })
    reader.publish(createEnvelope(alice, { topic, payload: text('x') }))
    await reader.until(() => reader.of(TopicFrameType.Error).length === 1)
    expect(reader.of(TopicFrameType.Error)[0]?.code).toBe(ErrorCode.Forbidden)
    expect(reader.texts()).toEqual([])
  })
})

describe('topic routes refuse bad requests', () => {
  const call = (path: string, init: RequestInit = {}) => exports.default.fetch(new Request(`${EDGE}${path}`, init))
  const expectError = async (res: Response, status: number, code: ErrorCode) => {
    expect(res.status).toBe(status)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code)
  }
  const ws = { Upgrade: 'websocket' }

  it.each([
    ['no namespace', 'updates'],
    ['an unknown namespace', 'secret:updates:x'],
    ['an empty id', 'user:updates:'],
    ['a space', 'user:up dates:x'],
    ['an over-long name', `public:chat:${'x'.repeat(300)}`],
  ])('an invalid topic name: %s', async (_, name) => {
    expect(await refusal(`/v1/topics/${encodeURIComponent(name)}`, ws)).toEqual({
      status: 400,
      code: ErrorCode.InvalidTopic,
    })
  })

  it('a subscribe without an upgrade', async () => {
    expect(await withoutUpgrade(`/v1/topics/${freshTopic()}`)).toEqual({ status: 426, code: ErrorCode.UpgradeRequired })
  })

  it.each([
    ['a negative cursor', 'cursor=-1'],
    ['a cursor that is not a number', 'cursor=abc'],
    ['a message id of the wrong shape', 'after=short'],
  ])('a malformed resume point: %s', async (_, query) => {
    expect(await refusal(`/v1/topics/${freshTopic()}?${query}`, ws)).toEqual({
      status: 400,
      code: ErrorCode.BadRequest,
    })
  })

  it('an HTTP publish that is not CBOR', async () => {
    const res = await call(`/v1/topics/${freshTopic()}`, { method: 'POST', body: 'hello' })
    await expectError(res, 400, ErrorCode.InvalidEncoding)
  })

  it('an HTTP publish with a bad signature, which stores nothing', async () => {
    const topic = freshTopic()
    const e = createEnvelope(alice, { topic, payload: text('x') })
    const res = await call(`/v1/topics/${topic}`, {
      method: 'POST',
      body: encodeEnvelope({ ...e, payload: text('y') }),
    })
    await expectError(res, 400, ErrorCode.InvalidSignature)
    const reader = await TopicPeer.connect(topic, { cursor: 0 })
    await reader.until(() => reader.of(TopicFrameType.Live).length === 1)
    expect(reader.texts()).toEqual([])
  })

  it('an HTTP publish from a read-only credential', async () => {
    const topic = freshTopic()
    const body = encodeEnvelope(createEnvelope(alice, { topic, payload: text('x') }))
    const res = await call(`/v1/topics/${topic}?token=${DEV_READ_ONLY_TOKEN}`, { method: 'POST', body })
    await expectError(res, 403, ErrorCode.Forbidden)
  })
})
