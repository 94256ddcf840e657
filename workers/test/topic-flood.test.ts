import { env } from 'cloudflare:test'
import { exports } from 'cloudflare:workers'
import {
  type Action,
  type Capability,
  CloseCode,
  createEnvelope,
  ErrorCode,
  encodeCapabilityText,
  encodeEnvelope,
  generateIdentity,
  type Identity,
  issueCapability,
  Limits,
  messageId,
  TopicFrameType,
} from '@vivim/shared'
import { describe, expect, it } from 'vitest'
import { edgeIdentity } from '../auth/edge-identity.ts'
import { EDGE } from './socket-peer.ts'
import { TopicPeer } from './topic-peer.ts'

const alice = generateIdentity()
const mallory = generateIdentity()
const text = (s: string) => new TextEncoder().encode(s)
const freshTopic = () => `circle:messages:${crypto.randomUUID()}`
const messageIds = (peer: TopicPeer) => peer.messages().map((m) => messageId(m.e))

async function subscribers(topic: string, n: number): Promise<TopicPeer[]> {
  const peers = await Promise.all(Array.from({ length: n }, () => TopicPeer.connect(topic)))
  await Promise.all(peers.map((p) => p.until(() => p.of(TopicFrameType.Live).length === 1)))
  return peers
}

describe('a publisher flooding a topic', () => {
  it('is throttled on its socket while every well-behaved subscriber stays and gets each accepted message', {
    timeout: 120_000,
  }, async () => {
    const topic = freshTopic()
    const readers = await subscribers(topic, 4)
    const flooder = await TopicPeer.connect(topic, { autoAck: false })
    await flooder.until(() => flooder.of(TopicFrameType.Live).length === 1)
    const flood = Array.from({ length: 2500 }, (_, i) => createEnvelope(mallory, { topic, payload: text(`f${i}`) }))
    // Each publish followed by an ack far ahead: the room caps an ack at what it sent, not at what
    // the flooder read, so its own acks must buy it nothing.
    for (const e of flood) {
      flooder.publish(e)
      flooder.ack(Number.MAX_SAFE_INTEGER)
    }
    const answered = () => flooder.of(TopicFrameType.Ok).length + flooder.of(TopicFrameType.Error).length
    await flooder.until(() => flooder.closed !== null || answered() === flood.length)

    const accepted = flooder.of(TopicFrameType.Ok).map((ok) => ok.id)
    const refusals = flooder.of(TopicFrameType.Error)
    expect(refusals.length).toBeGreaterThan(0)
    // Refused, not dropped on the floor: each refusal says so (the socket is closed with 4429 only
    // when its refusals outrun their own budget, which a backlog refills as it drains).
    expect(refusals.every((e) => e.code === ErrorCode.RateLimited)).toBe(true)
    if (flooder.closed !== null) expect(flooder.closed.code).toBe(CloseCode.RateLimited)
    // Publishes waited while readers were far behind: part of the flood was stored, not all of it.
    expect(accepted.length).toBeGreaterThan(0)
    expect(accepted.length).toBeLessThan(flood.length)
    // A publish stored as the flooder's socket was closed had its ok lost with the socket: readers may
    // hold such unanswered messages too, never more than went unanswered, and all hold the same.
    const unanswered = flood.length - answered()
    for (const reader of readers) {
      await reader.until(() => reader.closed !== null || reader.texts().length >= accepted.length)
      expect(reader.closed).toBeNull()
    }
    // The room still serves them: a later publish reaches everyone, after whatever it stored before.
    const later = await TopicPeer.connect(topic)
    later.publish(createEnvelope(alice, { topic, payload: text('after the flood') }))
    for (const reader of readers) {
      await reader.until(() => reader.texts().includes('after the flood'))
      expect(reader.closed).toBeNull()
      const got = messageIds(reader).slice(0, -1)
      expect(got).toEqual(messageIds(readers[0] as TopicPeer).slice(0, -1))
      expect(got.filter((id) => accepted.includes(id))).toEqual(accepted)
      expect(got.length - accepted.length).toBeLessThanOrEqual(unanswered)
    }
  })

  it('is answered 429 rate_limited over HTTP past its burst, and subscribers get every accepted message', {
    timeout: 120_000,
  }, async () => {
    const topic = freshTopic()
    const readers = await subscribers(topic, 2)
    const count = Limits.topicPublishBurst * 3
    const responses = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        exports.default.fetch(
          new Request(`${EDGE}/v1/topics/${topic}`, {
            method: 'POST',
            body: encodeEnvelope(createEnvelope(mallory, { topic, payload: text(`h${i}`) })),
          }),
        ),
      ),
    )
    const bodies = await Promise.all(responses.map(async (r) => ({ status: r.status, body: await r.json() })))
    const limited = bodies.filter((b) => b.status === 429)
    const stored = bodies.filter((b) => b.status === 200) as { body: { id: string; cursor: number } }[]
    expect(limited.length).toBeGreaterThan(0)
    expect(stored.length + limited.length).toBe(count)
    for (const b of limited) expect((b.body as { error: { code: string } }).error.code).toBe(ErrorCode.RateLimited)
    const acceptedIds = stored.sort((a, b) => a.body.cursor - b.body.cursor).map((b) => b.body.id)
    for (const reader of readers) {
      await reader.until(() => reader.closed !== null || reader.texts().length === acceptedIds.length)
      expect(reader.closed).toBeNull()
      expect(messageIds(reader)).toEqual(acceptedIds)
    }
  })
})

describe('a subscriber of a busy topic', () => {
  it('is never closed for acknowledging every message', { timeout: 120_000 }, async () => {
    const topic = freshTopic()
    const reader = await TopicPeer.connect(topic, { autoAck: false })
    await reader.until(() => reader.of(TopicFrameType.Live).length === 1)
    // As many messages as it may lag before publishes wait (more than a socket's frame burst),
    // published within the publish rate by several sockets.
    const total = Limits.maxTopicReaderLag - 1
    const perPublisher = Limits.topicPublishBurst
    const publishers = Math.ceil(total / perPublisher)
    await Promise.all(
      Array.from({ length: publishers }, async (_, p) => {
        const count = Math.min(perPublisher, total - p * perPublisher)
        const publisher = await TopicPeer.connect(topic)
        for (let n = 0; n < count; n++) {
          publisher.publish(createEnvelope(alice, { topic, payload: text(`${p}-${n}`) }))
        }
        await publisher.until(() => publisher.of(TopicFrameType.Ok).length === count)
        publisher.close()
      }),
    )
    await reader.until(() => reader.texts().length === total)
    // Its event loop was busy: it acknowledges each message it handled, one ack per message, at
    // once. Counted as frames, these would pass the frame burst faster than the rate refills it.
    for (const m of reader.messages()) reader.ack(m.c)
    // Its frames reach the room in order, so once this publish is answered every ack was handled.
    reader.publish(createEnvelope(alice, { topic, payload: text('still here') }))
    await reader.until(() => reader.closed !== null || reader.texts().includes('still here'))
    expect(reader.closed).toBeNull()
    expect(reader.texts()).toHaveLength(total + 1)
  })
})

describe('a write-only grant on a topic', () => {
  it('publishes, and receives neither the history nor anyone’s messages', async () => {
    const topic = `public:news:${crypto.randomUUID()}`
    const res = `topic:${topic}`
    const exp = Date.now() + 3_600_000
    const aud = edgeIdentity(env).did
    const invoke = (who: Identity, can: Action[], prf: Capability[] = []) =>
      encodeCapabilityText(issueCapability(who, { aud, res, can, exp, prf }))
    const owner = await TopicPeer.connect(topic, { token: invoke(alice, ['read', 'write']) })
    await owner.until(() => owner.of(TopicFrameType.Live).length === 1)
    owner.publish(createEnvelope(alice, { topic, payload: text('before') }))
    await owner.until(() => owner.texts().includes('before'))
    const grant = issueCapability(alice, { aud: mallory.did, res, can: ['write'], exp })
    const writer = await TopicPeer.connect(topic, { token: invoke(mallory, ['write'], [grant]) })
    await writer.until(() => writer.of(TopicFrameType.Live).length === 1)
    writer.publish(createEnvelope(mallory, { topic, payload: text('from the writer') }))
    await owner.until(() => owner.texts().includes('from the writer'))
    owner.publish(createEnvelope(alice, { topic, payload: text('after') }))
    await owner.until(() => owner.texts().includes('after'))
    await writer.until(() => writer.of(TopicFrameType.Ok).length === 1)
    expect(writer.messages()).toEqual([])
  })
})
