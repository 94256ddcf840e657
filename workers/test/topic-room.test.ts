import { env, evictDurableObject } from 'cloudflare:test'
import { exports } from 'cloudflare:workers'
import { CloseCode, createEnvelope, encodeEnvelope, generateIdentity, messageId, TopicFrameType } from '@vivim/shared'
import { describe, expect, it } from 'vitest'
import { publishInWaves, TopicPeer } from './topic-peer.ts'

const alice = generateIdentity()
const text = (s: string) => new TextEncoder().encode(s)
const freshTopic = () => `circle:messages:${crypto.randomUUID()}`
const note = (topic: string, s: string) => createEnvelope(alice, { topic, payload: text(s) })

const publishAll = (publisher: TopicPeer, topic: string, items: string[]) =>
  publisher.publishAll(items.map((item) => note(topic, item)))

describe('topic rooms', () => {
  it('fan out each message once to every subscriber', async () => {
    const topic = freshTopic()
    const subscribers = await Promise.all(Array.from({ length: 40 }, () => TopicPeer.connect(topic)))
    const publisher = await TopicPeer.connect(topic)
    await publishAll(publisher, topic, ['one', 'two', 'three'])
    await Promise.all(subscribers.map((s) => s.until(() => s.texts().length === 3)))
    for (const s of subscribers) {
      expect(s.texts()).toEqual(['one', 'two', 'three'])
      expect(s.messages().map((m) => m.c)).toEqual([1, 2, 3])
    }
  })

  it('publishes over HTTP too, and a duplicate is acknowledged but not sent again', async () => {
    const topic = freshTopic()
    const subscriber = await TopicPeer.connect(topic)
    const envelope = note(topic, 'once')
    const post = () =>
      exports.default.fetch(
        new Request(`http://edge.test/v1/topics/${topic}`, { method: 'POST', body: encodeEnvelope(envelope) }),
      )
    const first = await post()
    expect(await first.json()).toEqual({ id: messageId(envelope), cursor: 1, duplicate: false })
    const again = await post()
    expect(await again.json()).toEqual({ id: messageId(envelope), cursor: 1, duplicate: true })
    const publisher = await TopicPeer.connect(topic)
    publisher.publish(envelope)
    await publisher.until(() => publisher.of(TopicFrameType.Ok).length === 1)
    expect(publisher.of(TopicFrameType.Ok)[0]).toMatchObject({ dup: true, c: 1 })
    await publishAll(publisher, topic, ['next'])
    await subscriber.until(() => subscriber.texts().length === 2)
    expect(subscriber.texts()).toEqual(['once', 'next'])
  })

  it('resumes after a reconnect with no gap and no duplicate, by cursor or by message id', async () => {
    const topic = freshTopic()
    const publisher = await TopicPeer.connect(topic)
    const first = await TopicPeer.connect(topic)
    await publishAll(publisher, topic, ['a', 'b', 'c'])
    await first.until(() => first.texts().length === 3)
    const lastSeen = first.messages().at(-1)
    first.close()
    await publishAll(publisher, topic, ['d', 'e'])
    const byCursor = await TopicPeer.connect(topic, { cursor: lastSeen?.c })
    const byId = await TopicPeer.connect(topic, { after: messageId(lastSeen?.e as never) })
    for (const s of [byCursor, byId]) await s.until(() => s.of(TopicFrameType.Live).length === 1)
    await publishAll(publisher, topic, ['f'])
    for (const s of [byCursor, byId]) {
      await s.until(() => s.texts().length === 3)
      expect(s.texts()).toEqual(['d', 'e', 'f'])
      expect(s.frames.map((f) => f.t)).toEqual(['msg', 'msg', 'live', 'msg'])
      expect(s.of(TopicFrameType.Gap)).toEqual([])
    }
  })

  it('tells a subscriber whose resume point fell out of the history window', async () => {
    const topic = freshTopic()
    const publisher = await TopicPeer.connect(topic)
    const items = Array.from({ length: 60 }, (_, i) => `m${i}`)
    await publishAll(publisher, topic, items)
    const late = await TopicPeer.connect(topic, { cursor: 2 })
    await late.until(() => late.of(TopicFrameType.Live).length === 1)
    expect(late.frames[0]).toEqual({ t: 'gap', from: 2, oldest: 11 })
    expect(late.texts()).toEqual(items.slice(10))
    const unknown = await TopicPeer.connect(topic, { after: 'A'.repeat(43) })
    await unknown.until(() => unknown.of(TopicFrameType.Live).length === 1)
    expect(unknown.frames[0]).toMatchObject({ t: 'gap', oldest: 11 })
  })

  it('drops a subscriber that cannot keep up while the others continue', { timeout: 60_000 }, async () => {
    const topic = freshTopic()
    const slow = await TopicPeer.connect(topic, { autoAck: false })
    const fast = await TopicPeer.connect(topic)
    // Publishers publish in bursts the publish rate allows. Publishes wait while the slow reader,
    // which never acks, is far behind; once it has lagged that long it is excused, publishing
    // resumes, and back-pressure drops it. The fast reader gets every accepted message.
    const accepted = await publishInWaves(
      topic,
      (item) => note(topic, item),
      () => slow.closed !== null,
    )
    expect(slow.closed).toMatchObject({ code: CloseCode.TooSlow })
    await fast.until(() => fast.texts().length === accepted)
    expect(new Set(fast.texts()).size).toBe(accepted)
    expect(fast.closed).toBeNull()
  })

  it('loses no message inside the history window when evicted', async () => {
    const topic = freshTopic()
    const publisher = await TopicPeer.connect(topic)
    await publishAll(publisher, topic, ['1', '2', '3'])
    await evictDurableObject(env.TOPIC_ROOM.getByName(topic))
    await publishAll(publisher, topic, ['4'])
    await evictDurableObject(env.TOPIC_ROOM.getByName(topic), { webSockets: 'close' })
    const reader = await TopicPeer.connect(topic, { cursor: 0 })
    await reader.until(() => reader.of(TopicFrameType.Live).length === 1)
    expect(reader.texts()).toEqual(['1', '2', '3', '4'])
    expect(reader.of(TopicFrameType.Live)[0]?.c).toBe(4)
  })
})
