import { env, runInDurableObject } from 'cloudflare:test'
import {
  ActivityType,
  createRevocation,
  decodeActivity,
  encodeCapability,
  encodeRevocation,
  generateIdentity,
  issueCapability,
  Limits,
} from '@vivim/shared'
import { describe, expect, it } from 'vitest'
import { revocationStored, topicOpened } from '../federation/hooks.ts'
import { linksOf } from '../federation/hub.ts'
import { passedOn } from '../federation/revocation-fanout.ts'
import { inLaneZero } from './federation-lanes.ts'

// This test edge does not federate; these hooks run as if it did, with one peer.
const federating = { ...env, FEDERATION_DOMAIN: 'a.example', FEDERATION_PEERS: 'b.example' }
const outbox = () => env.FEDERATION_OUTBOX.getByName('b.example')

const queued = () =>
  runInDurableObject(outbox(), (_, state) =>
    state.storage.sql
      .exec<{ activity: ArrayBuffer }>('SELECT activity FROM txs ORDER BY seq')
      .toArray()
      .map((r) => decodeActivity(new Uint8Array(r.activity))),
  )

describe('hooks while the peer’s outbox is full', () => {
  it('a subscription and a revocation are not lost: they are queued once the outbox drains', async () => {
    const alice = generateIdentity()
    // A topic of lane 0, whose outbox for the peer is the one this test fills (`federation/lanes.ts`).
    const topic = inLaneZero('public:news:hooks')
    const token = issueCapability(alice, {
      aud: alice.did,
      res: `topic:${topic}`,
      can: ['read'],
      exp: Date.now() + 60_000,
    })
    const revocation = encodeRevocation(createRevocation(alice, token))
    await outbox().status()
    await runInDurableObject(outbox(), (_, state) => {
      state.storage.sql.exec(
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
         INSERT INTO txs (seq, id, at, activity) SELECT i, 'filler', 0, X'00' FROM n`,
        Limits.maxOutboxTransactions,
      )
      state.storage.sql.exec("INSERT OR REPLACE INTO meta VALUES ('domain', 'b.example')")
    })
    await topicOpened(federating, topic)
    // The revocation is answered (the registry would answer its caller) and counts as passed on.
    await revocationStored(federating, revocation, encodeCapability(token))
    expect(await passedOn(env, createRevocation(alice, token).revoke)).toBe(true)
    expect(await linksOf(env, 'topic', topic)).toEqual([{ peer: 'b.example', role: 'peer' }])
    // Delivered: the outbox drained, and queues what it could not take.
    await runInDurableObject(outbox(), (_, state) => void state.storage.sql.exec('DELETE FROM txs'))
    expect(await outbox().refillAfterOverflow('b.example')).toBe(true)
    expect(await queued()).toEqual([
      { t: ActivityType.TopicSubscribe, topic },
      { t: ActivityType.Revocation, revocation: expect.any(Uint8Array), token: expect.any(Uint8Array) },
    ])
    // A later open finds the topic linked and queues nothing more.
    await topicOpened(federating, topic)
    expect((await queued()).length).toBe(2)
  })
})
