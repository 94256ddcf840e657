import { env, runInDurableObject } from 'cloudflare:test'
import { exports } from 'cloudflare:workers'
import {
  createEnvelope,
  ErrorCode,
  encodeEnvelope,
  generateIdentity,
  Limits,
  messageId,
  TopicFrameType,
  VivimError,
} from '@vivim/shared'
import { describe, expect, it } from 'vitest'
import { TopicStore } from '../relay/topic-store.ts'
import { EDGE } from './socket-peer.ts'
import { TopicPeer } from './topic-peer.ts'

const alice = generateIdentity()
const text = (s: string) => new TextEncoder().encode(s)
const freshTopic = () => `circle:messages:${crypto.randomUUID()}`
const DAY = 86_400_000

/** What `append` threw, as an error code, or null when it stored or deduplicated. */
function staleOrNot(run: () => unknown): string | null {
  try {
    run()
    return null
  } catch (error) {
    if (error instanceof VivimError) return error.code
    throw error
  }
}

describe('topic message replay', () => {
  it('a message pushed out of the history is still a duplicate when sent again', async () => {
    const topic = freshTopic()
    const subscriber = await TopicPeer.connect(topic)
    const publisher = await TopicPeer.connect(topic)
    const original = createEnvelope(alice, { topic, payload: text('once') })
    const later = Array.from({ length: 60 }, (_, i) => createEnvelope(alice, { topic, payload: text(`m${i}`) }))
    // The tests keep 50 messages of history; 60 more push the first one out of it.
    for (const e of [original, ...later]) publisher.publish(e)
    await publisher.until(() => publisher.of(TopicFrameType.Ok).length === 61)
    const history = await TopicPeer.connect(topic, { cursor: 0 })
    await history.until(() => history.of(TopicFrameType.Live).length === 1)
    expect(history.texts()).not.toContain('once')

    publisher.publish(original)
    await publisher.until(() => publisher.of(TopicFrameType.Ok).length === 62)
    expect(publisher.of(TopicFrameType.Ok)[61]).toEqual({ t: 'ok', id: messageId(original), c: 1, dup: true })
    const res = await exports.default.fetch(
      new Request(`${EDGE}/v1/topics/${topic}`, { method: 'POST', body: encodeEnvelope(original) }),
    )
    expect(await res.json()).toEqual({ id: messageId(original), cursor: 1, duplicate: true })

    publisher.publish(createEnvelope(alice, { topic, payload: text('marker') }))
    await subscriber.until(() => subscriber.texts().includes('marker'))
    expect(subscriber.texts()).toEqual(['once', ...later.map((_, i) => `m${i}`), 'marker'])
  })

  it('past the seen-id bound, the oldest ids are forgotten and timestamps at or below them refused', async () => {
    const stub = env.TOPIC_ROOM.getByName(freshTopic())
    await runInDurableObject(stub, (_, state) => {
      const now = Date.now()
      // Dated before the allowed clock skew: the floor never rises past now less the skew.
      const old = now - Limits.maxClockSkewMs
      // A history of one message, so the ids below are known only as seen ids.
      const retention = { maxMessages: 1, maxAgeMs: DAY }
      const store = new TopicStore(state.storage, 3)
      // Each append followed by the prune the room runs at its next flush.
      const append = (id: string, ts: number, at = now) =>
        staleOrNot(() => {
          store.append(id, ts, new Uint8Array([1]), retention, at)
          store.prune(retention, at)
        })
      const seenIds = () => state.storage.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM topic_seen').one().n

      for (const [id, ts] of [
        ['a', old - 4000],
        ['b', old - 3000],
        ['c', old - 2000],
        ['d', old - 1000],
      ] as const) {
        expect(append(id, ts)).toBeNull()
      }
      expect(seenIds()).toBe(3)
      // `a` was forgotten: it, and anything no newer, is refused rather than taken as new.
      expect(append('a', old - 4000)).toBe(ErrorCode.StaleRecord)
      expect(append('e', old - 4000)).toBe(ErrorCode.StaleRecord)
      expect(store.append('c', old - 2000, new Uint8Array([1]), retention, now)).toEqual({ cursor: 3, duplicate: true })
      // A newer message drops the next oldest, `b`, and the floor rises to it.
      expect(append('f', now)).toBeNull()
      expect(seenIds()).toBe(3)
      expect(append('b', old - 3000)).toBe(ErrorCode.StaleRecord)

      // The floor is stored with the ids: it holds for the next instance of the room too.
      const again = new TopicStore(state.storage, 3)
      const appendAgain = (id: string, ts: number) =>
        staleOrNot(() => again.append(id, ts, new Uint8Array([1]), retention, now))
      expect(appendAgain('g', old - 3000)).toBe(ErrorCode.StaleRecord)
      expect(appendAgain('h', old - 2999)).toBeNull()
    })
  })

  it('messages dated ahead of the clock never raise the floor past it (no one can lock a topic)', async () => {
    const stub = env.TOPIC_ROOM.getByName(freshTopic())
    await runInDurableObject(stub, (_, state) => {
      const now = Date.now()
      const retention = { maxMessages: 1, maxAgeMs: DAY }
      const store = new TopicStore(state.storage, 3)
      const append = (id: string, ts: number) =>
        staleOrNot(() => store.append(id, ts, new Uint8Array([1]), retention, now))
      // More ids than the bound, all dated four minutes ahead (within the allowed skew).
      for (const id of ['f1', 'f2', 'f3', 'f4', 'f5']) expect(append(id, now + 240_000)).toBeNull()
      // An honest message dated now is still accepted.
      expect(append('honest', now)).toBeNull()
    })
  })

  it('a room that stops between storing and pruning never gives a cursor twice', async () => {
    const stub = env.TOPIC_ROOM.getByName(freshTopic())
    await runInDurableObject(stub, (_, state) => {
      const now = Date.now()
      const retention = { maxMessages: 2, maxAgeMs: DAY }
      const store = new TopicStore(state.storage)
      for (const id of ['p1', 'p2', 'p3']) store.append(id, now, new Uint8Array([1]), retention, now)
      store.prune(retention, now)
      expect(store.append('p4', now, new Uint8Array([1]), retention, now)).toEqual({ cursor: 4, duplicate: false })
      // Stopped here: no prune stored the latest cursor. The next instance reads it from the rows.
      const again = new TopicStore(state.storage)
      expect(again.latest).toBe(4)
      expect(again.append('p5', now, new Uint8Array([1]), retention, now)).toEqual({ cursor: 5, duplicate: false })
      again.prune(retention, now)
      expect(again.after(0).map((m) => m.id)).toEqual(['p4', 'p5'])
    })
  })

  it('ids whose timestamps passed the accepted age are forgotten without raising the floor', async () => {
    const stub = env.TOPIC_ROOM.getByName(freshTopic())
    await runInDurableObject(stub, (_, state) => {
      const now = Date.now()
      const retention = { maxMessages: 50, maxAgeMs: 10_000 }
      const store = new TopicStore(state.storage, 3)
      store.append('old', now - 9_000, new Uint8Array([1]), retention, now)
      store.append('new', now, new Uint8Array([1]), retention, now + 2_000)
      expect(state.storage.sql.exec('SELECT id FROM topic_seen').toArray()).toHaveLength(2)
      store.prune(retention, now + 2_000)
      const ids = state.storage.sql.exec<{ id: string }>('SELECT id FROM topic_seen ORDER BY id').toArray()
      expect(ids.map((r) => r.id)).toEqual(['new'])
      expect(store.append('newer', now - 7_999, new Uint8Array([1]), retention, now + 2_000)).toMatchObject({
        duplicate: false,
      })
    })
  })
})
