import { env, evictDurableObject, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import {
  ActivityType,
  createEnvelope,
  decodeActivity,
  encodeActivity,
  encodeEnvelope,
  generateIdentity,
  Limits,
} from '@vivim/shared'
import { describe, expect, it } from 'vitest'
import { afterFailure, afterSuccess, backoffDelay, initialDelivery, nextStep } from '../federation/backoff.ts'
import { linkPeer } from '../federation/hub.ts'
import { inLaneZero } from './federation-lanes.ts'

const init = { baseMs: 1000, maxMs: 60_000, threshold: 5 }

describe('outbox back-off and circuit breaker', () => {
  it('doubles the delay per failure up to the cap, with jitter in the upper half only', () => {
    expect([1, 2, 3, 4, 7, 40].map((n) => backoffDelay(n, init))).toEqual([1000, 2000, 4000, 8000, 60_000, 60_000])
    const low = afterFailure(initialDelivery(), 0, init, () => 0)
    const high = afterFailure(initialDelivery(), 0, init, () => 1)
    expect([low.nextAt, high.nextAt]).toEqual([500, 1000])
  })

  it('opens after the threshold, waits out the cool-down, probes once, and closes on success', () => {
    let state = initialDelivery()
    for (let i = 0; i < init.threshold - 1; i++) state = afterFailure(state, 0, init, () => 1)
    expect(state.breaker).toBe('closed')
    state = afterFailure(state, 0, init, () => 1)
    expect(state).toMatchObject({ breaker: 'open', failures: 5, nextAt: 60_000 })
    expect(nextStep(state, 59_999).step).toBe('wait')
    const probe = nextStep(state, 60_000)
    expect(probe).toMatchObject({ step: 'probe', state: { breaker: 'half-open' } })
    // A failed probe opens the breaker again for a whole cool-down.
    expect(afterFailure(probe.state, 60_000, init, () => 1)).toMatchObject({ breaker: 'open', nextAt: 120_000 })
    expect(nextStep(afterSuccess(), 0).step).toBe('send')
  })
})

describe('FederationOutbox', () => {
  it('keeps what it accepted, in order, across eviction and alarms it cannot deliver', async () => {
    // This test edge does not federate (no FEDERATION_DOMAIN): nothing can be sent, so nothing may be dropped.
    const outbox = env.FEDERATION_OUTBOX.getByName('peer.example')
    const before = Date.now()
    const seqs: number[] = []
    for (let i = 0; i < 3; i++) {
      const activity = encodeActivity({ t: ActivityType.TopicSubscribe, topic: `public:news:n${i}` })
      seqs.push(...(await outbox.enqueue('peer.example', [activity])))
    }
    // Consecutive, from the time the outbox was made: past anything an outbox of this name sent before losing its state.
    const first = seqs[0] as number
    expect(first).toBeGreaterThan(before)
    expect(seqs).toEqual([first, first + 1, first + 2])
    expect(await runInDurableObject(outbox, (_, state) => state.storage.getAlarm())).not.toBeNull()
    await runDurableObjectAlarm(outbox)
    await evictDurableObject(outbox)
    expect(await outbox.status()).toMatchObject({ domain: 'peer.example', pending: 3, failures: 0 })
  })
})

describe('a full outbox', () => {
  it('stores nothing past its capacity, and once drained queues what this instance has for the destination', async () => {
    const domain = 'full.example'
    // A topic of lane 0, whose outbox for the peer is the one this test fills (`federation/lanes.ts`).
    const topic = inLaneZero('public:news:overflow')
    const envelope = encodeEnvelope(createEnvelope(generateIdentity(), { topic, payload: new Uint8Array([1]) }))
    const room = env.TOPIC_ROOM.getByName(topic)
    expect((await room.remotePublish(topic, envelope)).ok).toBe(true)
    await linkPeer(env, 'topic', topic, domain, 'peer')
    const outbox = env.FEDERATION_OUTBOX.getByName(domain)
    const subscribe = encodeActivity({ t: ActivityType.TopicSubscribe, topic })
    await outbox.enqueue(domain, [subscribe])
    await runInDurableObject(outbox, (_, state) => {
      state.storage.sql.exec(
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
         INSERT INTO txs (seq, id, at, activity) SELECT i, 'filler', 0, X'00' FROM n`,
        Limits.maxOutboxTransactions - 1,
      )
    })
    expect(await outbox.enqueue(domain, [subscribe])).toEqual([])
    expect((await outbox.status()).overflowSince).not.toBeNull()
    // Nothing to queue again while it still holds something.
    expect(await outbox.refillAfterOverflow(domain)).toBe(false)
    // The destination acknowledged everything: the outbox drained.
    await runInDurableObject(outbox, (_, state) => void state.storage.sql.exec('DELETE FROM txs'))
    expect(await outbox.refillAfterOverflow(domain)).toBe(true)
    const queued = await runInDurableObject(outbox, (_, state) =>
      state.storage.sql
        .exec<{ activity: ArrayBuffer }>('SELECT activity FROM txs ORDER BY seq')
        .toArray()
        .map((r) => encodeActivity(decodeActivity(new Uint8Array(r.activity)))),
    )
    expect(queued).toEqual([subscribe, encodeActivity({ t: ActivityType.TopicMessage, topic, envelope })])
    expect((await outbox.status()).overflowSince).toBeNull()
    expect(await outbox.refillAfterOverflow(domain)).toBe(false)
  })
})
