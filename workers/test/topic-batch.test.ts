import { createEnvelope, generateIdentity, messageId, TopicFrameType } from '@vivim/shared'
import { describe, expect, it } from 'vitest'
import { TopicPeer } from './topic-peer.ts'

const alice = generateIdentity()
const text = (s: string) => new TextEncoder().encode(s)
const freshTopic = () => `circle:messages:${crypto.randomUUID()}`
const note = (topic: string, s: string) => createEnvelope(alice, { topic, payload: text(s) })

/** Publishes every item back to back (no wait between them), then waits for every `ok`. */
const burst = (publisher: TopicPeer, topic: string, items: string[]) =>
  publisher.publishAll(items.map((item) => note(topic, item)))

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

describe('topic rooms: batched fan-out', () => {
  it('a burst reaches every subscriber in order, each message once, in fewer frames than messages', async () => {
    const topic = freshTopic()
    const subscribers = await Promise.all(Array.from({ length: 8 }, () => TopicPeer.connect(topic)))
    const publisher = await TopicPeer.connect(topic)
    const items = Array.from({ length: 40 }, (_, i) => `m${i}`)
    await burst(publisher, topic, items)
    for (const s of [...subscribers, publisher]) {
      await s.until(() => s.texts().length === items.length)
      expect(s.texts()).toEqual(items)
      expect(s.messages().map((m) => m.c)).toEqual(range(1, items.length))
      const frames = s.messageFrames()
      expect(frames.length).toBeLessThan(items.length)
      expect(frames.some((f) => f.t === TopicFrameType.Messages)).toBe(true)
    }
    // Every reader got the same frames: one encoding per flush, the same cursors in each.
    const shape = (s: TopicPeer) =>
      s.messageFrames().map((f) => JSON.stringify(f, (_k, v) => (v instanceof Uint8Array ? v.length : v)))
    for (const s of subscribers) expect(shape(s)).toEqual(shape(subscribers[0] as TopicPeer))
  })

  it('resumes after the last message of a batch, by cursor or by message id', async () => {
    const topic = freshTopic()
    const publisher = await TopicPeer.connect(topic)
    const first = await TopicPeer.connect(topic)
    const items = Array.from({ length: 30 }, (_, i) => `a${i}`)
    await burst(publisher, topic, items)
    await first.until(() => first.texts().length === items.length)
    const batch = first.of(TopicFrameType.Messages)[0]
    expect(batch).toBeDefined()
    const last = batch?.m.at(-1)
    if (last === undefined) throw new Error('no batch')
    first.close()
    await burst(publisher, topic, ['b0', 'b1', 'b2'])
    const all = [...items, 'b0', 'b1', 'b2']
    const byCursor = await TopicPeer.connect(topic, { cursor: last.c })
    const byId = await TopicPeer.connect(topic, { after: messageId(last.e) })
    for (const s of [byCursor, byId]) {
      await s.until(() => s.of(TopicFrameType.Live).length === 1)
      expect(s.texts()).toEqual(all.slice(last.c))
      expect(s.messages().map((m) => m.c)).toEqual(range(last.c + 1, all.length))
      expect(s.of(TopicFrameType.Gap)).toEqual([])
    }
  })
})
