import { env, runInDurableObject } from 'cloudflare:test'
import { ActivityType, decodeActivity, Limits } from '@vivim/shared'
import { describe, expect, it } from 'vitest'
import { topicOpened } from '../federation/hooks.ts'
import { linksOf } from '../federation/hub.ts'

// This test edge does not federate; these hooks run as if it did, with one peer.
const federating = { ...env, FEDERATION_DOMAIN: 'a.example', FEDERATION_PEERS: 'b.example' }

const queued = (domain: string) =>
  runInDurableObject(env.FEDERATION_OUTBOX.getByName(domain), (_, state) =>
    state.storage.sql
      .exec<{ activity: ArrayBuffer }>("SELECT activity FROM txs WHERE id <> 'filler' ORDER BY seq")
      .toArray()
      .map((r) => decodeActivity(new Uint8Array(r.activity))),
  )

describe('a topic opened here', () => {
  it('is subscribed to at each peer once, and again at an open after the subscription could not be queued', async () => {
    const topic = 'public:news:hooks'
    const outbox = env.FEDERATION_OUTBOX.getByName('b.example')
    // The peer's outbox is full: the subscription cannot be queued now.
    await outbox.status()
    await runInDurableObject(outbox, (_, state) => {
      state.storage.sql.exec(
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
         INSERT INTO txs (seq, id, at, activity) SELECT i, 'filler', 0, X'00' FROM n`,
        Limits.maxOutboxTransactions,
      )
    })
    await topicOpened(federating, topic)
    expect(await linksOf(env, 'topic', topic)).toEqual([])
    await runInDurableObject(outbox, (_, state) => void state.storage.sql.exec("DELETE FROM txs WHERE id = 'filler'"))
    await topicOpened(federating, topic)
    await topicOpened(federating, topic)
    expect(await queued('b.example')).toEqual([{ t: ActivityType.TopicSubscribe, topic }])
    expect(await linksOf(env, 'topic', topic)).toEqual([{ peer: 'b.example', role: 'peer' }])
  })
})
