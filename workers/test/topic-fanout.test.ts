/**
 * Big topics: past `TOPIC_READERS_PER_OBJECT` readers (3 in these tests) a
 * topic's room passes new subscribers on to fan-out objects
 * (`workers/relay/topic-fanouts.ts`). Each test first fills the room, checks
 * which object holds which socket, and then asks of the readers behind a
 * fan-out object what the room's own readers are held to: every message
 * once, in cursor order, resume by cursor or id, the gap, back-pressure.
 */
import { env, evictDurableObject, runInDurableObject } from 'cloudflare:test'
import {
  CloseCode,
  createEnvelope,
  ErrorCode,
  encodeCapabilityText,
  encodeEnvelope,
  encodeMessageFrame,
  generateIdentity,
  Limits,
  messageId,
  TopicFrameType,
} from '@vivim/shared'
import { describe, expect, it } from 'vitest'
import { fanoutName, readersPerObject } from '../relay/topic-fanouts.ts'
import { READERS_BEHIND } from '../relay/topic-reader-room.ts'
import { TopicStore } from '../relay/topic-store.ts'
import { DocPeer } from './doc-peer.ts'
import { invoke, revoke } from './doc-tokens.ts'
import { publishInWaves, TopicPeer } from './topic-peer.ts'

const alice = generateIdentity()
const bob = generateIdentity()
const text = (s: string) => new TextEncoder().encode(s)
const freshTopic = () => `circle:messages:${crypto.randomUUID()}`
const note = (topic: string, s: string) => createEnvelope(alice, { topic, payload: text(s) })
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)
const PER_OBJECT = readersPerObject(env)

/** Sockets held by the room (`k` null) or by its fan-out object `k`. */
function socketsOn(topic: string, k: number | null): Promise<number> {
  const stub = k === null ? env.TOPIC_ROOM.getByName(topic) : env.TOPIC_FANOUT.getByName(fanoutName(topic, k))
  return runInDurableObject(stub as DurableObjectStub, (_, state) => state.getWebSockets().length)
}

/** `n` subscribers connected one after another (so which object each lands on is known), each live. */
async function subscribe(topic: string, n: number, options: Parameters<typeof TopicPeer.connect>[1] = {}) {
  const peers: TopicPeer[] = []
  for (let i = 0; i < n; i++) {
    const peer = await TopicPeer.connect(topic, options)
    await peer.until(() => peer.of(TopicFrameType.Live).length === 1)
    peers.push(peer)
  }
  return peers
}

const publishAll = (publisher: TopicPeer, topic: string, items: string[]) =>
  publisher.publishAll(items.map((item) => note(topic, item)))

describe('a topic past its readers per object', () => {
  it('passes new subscribers to fan-out objects, each getting every message once, in cursor order', async () => {
    const topic = freshTopic()
    const readers = await subscribe(topic, PER_OBJECT * 3 + 1)
    expect(await socketsOn(topic, null)).toBe(PER_OBJECT)
    expect([await socketsOn(topic, 0), await socketsOn(topic, 1), await socketsOn(topic, 2)]).toEqual([
      PER_OBJECT,
      PER_OBJECT,
      1,
    ])
    // The last one, behind fan-out object 2, publishes: its messages go through the room like anyone's.
    const publisher = readers.at(-1) as TopicPeer
    const items = Array.from({ length: 30 }, (_, i) => `m${i}`)
    await publishAll(publisher, topic, items)
    for (const r of readers) {
      await r.until(() => r.texts().length === items.length)
      expect(r.texts()).toEqual(items)
      expect(r.messages().map((m) => m.c)).toEqual(range(1, items.length))
    }
    // One encoding per flush: a reader behind a fan-out object gets the very frames the room's readers get.
    const shape = (s: TopicPeer) =>
      s.messageFrames().map((f) => JSON.stringify(f, (_k, v) => (v instanceof Uint8Array ? v.length : v)))
    for (const r of readers) expect(shape(r)).toEqual(shape(readers[0] as TopicPeer))
  })

  it('resumes a subscriber behind a fan-out object by cursor or message id, with no gap and no duplicate', async () => {
    const topic = freshTopic()
    const [publisher] = await subscribe(topic, PER_OBJECT)
    await publishAll(publisher as TopicPeer, topic, ['a', 'b', 'c'])
    const first = (await subscribe(topic, 1, { cursor: 0 }))[0] as TopicPeer
    expect(await socketsOn(topic, 0)).toBe(1)
    expect(first.texts()).toEqual(['a', 'b', 'c'])
    const lastSeen = first.messages().at(-1)
    first.close()
    await publishAll(publisher as TopicPeer, topic, ['d', 'e'])
    const byCursor = await TopicPeer.connect(topic, { cursor: lastSeen?.c })
    const byId = await TopicPeer.connect(topic, { after: messageId(lastSeen?.e as never) })
    for (const s of [byCursor, byId]) await s.until(() => s.of(TopicFrameType.Live).length === 1)
    await publishAll(publisher as TopicPeer, topic, ['f'])
    for (const s of [byCursor, byId]) {
      await s.until(() => s.texts().length === 3)
      expect(s.texts()).toEqual(['d', 'e', 'f'])
      expect(s.frames.map((f) => f.t)).toEqual(['msg', 'msg', 'live', 'msg'])
    }
  })

  it('tells a subscriber behind a fan-out object that its resume point left the history', async () => {
    const topic = freshTopic()
    const [publisher] = await subscribe(topic, PER_OBJECT)
    // The tests keep 50 messages of history.
    const items = Array.from({ length: 60 }, (_, i) => `m${i}`)
    await publishAll(publisher as TopicPeer, topic, items)
    const late = (await subscribe(topic, 1, { cursor: 2 }))[0] as TopicPeer
    expect(await socketsOn(topic, 0)).toBe(1)
    expect(late.frames[0]).toEqual({ t: 'gap', from: 2, oldest: 11 })
    expect(late.texts()).toEqual(items.slice(10))
  })

  it('gives subscribers joining while messages flow each message once, in order, from their resume point', async () => {
    const topic = freshTopic()
    const [publisher] = await subscribe(topic, PER_OBJECT)
    const items = Array.from({ length: 40 }, (_, i) => `m${i}`)
    const publishing = publishAll(publisher as TopicPeer, topic, items)
    // Their replays are read from the room while it goes on delivering to their fan-out objects.
    const joiners = await Promise.all(Array.from({ length: 6 }, () => TopicPeer.connect(topic, { cursor: 0 })))
    await publishing
    for (const j of joiners) {
      await j.until(() => j.texts().length === items.length)
      expect(j.texts()).toEqual(items)
      expect(j.messages().map((m) => m.c)).toEqual(range(1, items.length))
    }
  })

  it('closes a reader behind a fan-out object with 4430 when it falls too far behind, while the others continue', {
    timeout: 120_000,
  }, async () => {
    const topic = freshTopic()
    await subscribe(topic, PER_OBJECT)
    const slow = (await subscribe(topic, 1, { autoAck: false }))[0] as TopicPeer
    const steady = (await subscribe(topic, 1))[0] as TopicPeer
    expect(await socketsOn(topic, 0)).toBe(2)
    // Each wave's publisher publishes a burst the publish rate allows. Publishes wait
    // while the slow reader is far behind, until it has lagged long enough to be excused; then
    // back-pressure closes it.
    const accepted = await publishInWaves(
      topic,
      (item) => note(topic, item),
      () => slow.closed !== null,
    )
    expect(slow.closed).toMatchObject({ code: CloseCode.TooSlow })
    await steady.until(() => steady.texts().length === accepted)
    expect(new Set(steady.texts()).size).toBe(accepted)
    expect(steady.closed).toBeNull()
  })

  it('holds publishes back while a reader behind a fan-out object that acknowledges lags far behind', {
    timeout: 60_000,
  }, async () => {
    const topic = freshTopic()
    const [publisher] = await subscribe(topic, PER_OBJECT)
    const lagging = (await subscribe(topic, 1, { autoAck: false }))[0] as TopicPeer
    expect(await socketsOn(topic, 0)).toBe(1)
    lagging.ack(0)
    // More than it may lag, within the publish rate: once it is that far behind, publishes wait.
    let refused: { code: string; message: string } | undefined
    for (let sent = 0; refused === undefined && sent < Limits.maxTopicReaderLag * 2; sent += Limits.topicPublishBurst) {
      const before = (publisher as TopicPeer).of(TopicFrameType.Error).length
      const items = Array.from({ length: Limits.topicPublishBurst }, (_, n) => `${sent + n}`)
      for (const item of items) (publisher as TopicPeer).publish(note(topic, item))
      const answered = () =>
        (publisher as TopicPeer).of(TopicFrameType.Ok).length + (publisher as TopicPeer).of(TopicFrameType.Error).length
      await (publisher as TopicPeer).until(() => answered() >= sent + items.length)
      refused = (publisher as TopicPeer).of(TopicFrameType.Error)[before]
      if (refused === undefined) await new Promise((resolve) => setTimeout(resolve, 2_000))
    }
    expect(refused).toEqual({ t: 'err', code: ErrorCode.RateLimited, message: READERS_BEHIND })
    // It catches up: once its fan-out object has told the room, publishes are taken again.
    lagging.ack(lagging.messages().at(-1)?.c ?? 0)
    const published = async () => {
      const answers = (publisher as TopicPeer).frames.length
      ;(publisher as TopicPeer).publish(note(topic, 'after'))
      await (publisher as TopicPeer).until(() =>
        (publisher as TopicPeer).frames
          .slice(answers)
          .some((f) => f.t === TopicFrameType.Ok || f.t === TopicFrameType.Error),
      )
      return (publisher as TopicPeer).frames.slice(answers).some((f) => f.t === TopicFrameType.Ok)
    }
    while (!(await published())) await new Promise((resolve) => setTimeout(resolve, 200))
    await lagging.until(() => lagging.texts().includes('after'))
  })

  it('goes on sending to its fan-out objects after the room restarts, and theirs after they do', async () => {
    const topic = freshTopic()
    const [publisher] = await subscribe(topic, PER_OBJECT)
    const behind = await subscribe(topic, 2)
    expect(await socketsOn(topic, 0)).toBe(2)
    await publishAll(publisher as TopicPeer, topic, ['1'])
    await evictDurableObject(env.TOPIC_ROOM.getByName(topic))
    await publishAll(publisher as TopicPeer, topic, ['2'])
    await evictDurableObject(env.TOPIC_FANOUT.getByName(fanoutName(topic, 0)))
    await publishAll(publisher as TopicPeer, topic, ['3'])
    for (const r of behind) {
      await r.until(() => r.texts().length === 3)
      expect(r.texts()).toEqual(['1', '2', '3'])
      expect(r.messages().map((m) => m.c)).toEqual([1, 2, 3])
      expect(r.closed).toBeNull()
    }
  })

  it('passes a revocation on to its fan-out objects, which close the sockets admitted on the token', async () => {
    // A circle's topic follows the circle document's owner.
    const circle = `circle:${crypto.randomUUID()}`
    const topic = `circle:messages:${circle.slice('circle:'.length)}`
    await DocPeer.connect(circle, { token: encodeCapabilityText(invoke(alice, `doc:${circle}`, ['admin'])) })
    await subscribe(topic, PER_OBJECT, { token: encodeCapabilityText(invoke(alice, `topic:${topic}`, ['read'])) })
    const grant = invoke(alice, `topic:${topic}`, ['read'], { aud: bob.did })
    const [bobs] = await subscribe(topic, 1, {
      token: encodeCapabilityText(invoke(bob, `topic:${topic}`, ['read'], { prf: grant })),
    })
    expect(await socketsOn(topic, 0)).toBe(1)
    expect((await revoke(alice, grant)).status).toBe(200)
    expect(await (bobs as TopicPeer).closedWith()).toMatchObject({ code: CloseCode.Unauthorized })
  })

  it('completes a delivery that starts past what its readers have from the room’s store', async () => {
    const topic = freshTopic()
    const [publisher] = await subscribe(topic, PER_OBJECT)
    const [reader] = await subscribe(topic, 1)
    expect(await socketsOn(topic, 0)).toBe(1)
    await publishAll(publisher as TopicPeer, topic, ['1', '2'])
    await (reader as TopicPeer).until(() => (reader as TopicPeer).texts().length === 2)
    // Stored behind the room's back, as if its deliveries of them had been dropped.
    const missed = ['3', '4'].map((t) => note(topic, t))
    const retention = { maxMessages: 50, maxAgeMs: 60_000 }
    await runInDurableObject(env.TOPIC_ROOM.getByName(topic) as DurableObjectStub, (_, state) => {
      const store = new TopicStore(state.storage)
      for (const e of missed) store.append(messageId(e), e.timestamp, encodeEnvelope(e), retention, Date.now())
    })
    const next = encodeEnvelope(note(topic, '5'))
    const frame = { first: 5, last: 5, frame: encodeMessageFrame({ c: 5, envelope: next }) }
    await env.TOPIC_FANOUT.getByName(fanoutName(topic, 0)).deliver(topic, 0, [frame])
    await (reader as TopicPeer).until(() => (reader as TopicPeer).texts().length === 5)
    expect((reader as TopicPeer).texts()).toEqual(['1', '2', '3', '4', '5'])
    expect((reader as TopicPeer).messages().map((m) => m.c)).toEqual([1, 2, 3, 4, 5])
  })
})
