/**
 * A room's hand-over journal (`workers/relay/handover-journal.ts`): a
 * hand-over an extension could not take stays in the room's storage, arms
 * the room's alarm, and is handed over again from there, oldest first;
 * one that was taken leaves nothing behind. Edge events hold document
 * flushes and topic messages until every extension has them.
 */
import { env, runInDurableObject } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { EdgeEvents } from '../extensions/events.ts'
import { type Handover, HandoverJournal } from '../relay/handover-journal.ts'

const handover = (n: number): Handover => ({
  kind: 'docFlushed',
  name: 'journal-doc',
  bytes: new Uint8Array([n]),
  origin: null,
})

describe('the hand-over journal', () => {
  it('keeps what an extension could not take and hands it over again from the alarm, in order', async () => {
    const room = env.DOC_ROOM.getByName('journal-retry')
    await runInDurableObject(room, async (_, state) => {
      const taken: number[] = []
      let down = true
      const journal = new HandoverJournal(state, async (h) => {
        if (down) throw new Error('outbox unreachable')
        taken.push(h.bytes[0] as number)
      })
      for (const n of [1, 2]) {
        const seq = journal.record(handover(n))
        await expect(journal.deliver(seq, handover(n))).rejects.toThrow('outbox unreachable')
      }
      expect(journal.pending).toBe(2)
      expect(await state.storage.getAlarm()).not.toBeNull()
      down = false
      await journal.retry(Date.now() + 10 * 60_000)
      expect(taken).toEqual([1, 2])
      expect(journal.pending).toBe(0)
    })
  })

  it('leaves nothing once a hand-over is taken', async () => {
    const room = env.DOC_ROOM.getByName('journal-taken')
    await runInDurableObject(room, async (_, state) => {
      const journal = new HandoverJournal(state, async () => {})
      const seq = journal.record(handover(3))
      await journal.deliver(seq, handover(3))
      expect(journal.pending).toBe(0)
    })
  })

  it('is kept again after a restart: a new journal on the same storage still holds and retries it', async () => {
    const room = env.DOC_ROOM.getByName('journal-restart')
    await runInDurableObject(room, async (_, state) => {
      new HandoverJournal(state, async () => {}).record(handover(4))
      const taken: Handover[] = []
      const restarted = new HandoverJournal(state, async (h) => void taken.push(h))
      expect(restarted.pending).toBe(1)
      await restarted.retry(Date.now() + 60_000)
      expect(taken.map((h) => [...h.bytes])).toEqual([[4]])
      expect(restarted.pending).toBe(0)
    })
  })
})

describe('edge events hold hand-overs', () => {
  it('reject a document flush or a topic message an extension cannot take, and journal only while one takes them', async () => {
    const events = new EdgeEvents()
    expect(events.journals(env)).toBe(false)
    let federating = false
    events.register({
      name: 'peers',
      takesHandovers: () => federating,
      docFlushed: async () => Promise.reject(new Error('outbox full')),
      topicMessageStored: async () => Promise.reject(new Error('outbox full')),
    })
    expect(events.journals(env)).toBe(false)
    federating = true
    expect(events.journals(env)).toBe(true)
    await expect(events.docFlushed(env, { docId: 'd', update: new Uint8Array([0, 0]) })).rejects.toThrow('outbox full')
    await expect(events.topicMessageStored(env, { envelope: {} as never })).rejects.toThrow('outbox full')
  })
})
