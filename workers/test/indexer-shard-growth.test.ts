/**
 * Growing the index (`docs/deploy.md`, "Growing the index"): from 8 shards
 * to 32 with `INDEX_SHARDS_BEFORE = "8"`, every record stays readable,
 * listed and searchable while its key moves and after; a write during the
 * move is judged against the key's latest record wherever it is; the old
 * shards' alarms move every key to its new shard; a write that still
 * reaches an old shard is sent on to the key's owner. The steps share one
 * index, so they run in order.
 */
import { env, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { type ContentRecord, ErrorCode, encodeRecord, generateIdentity, type Identity } from '@vivim/shared'
import { describe, expect, it } from 'vitest'
import { shardName, shardOf } from '../indexer/shards.ts'
import { expectError, recordPath, signed, uniqueWord } from './indexer-client.ts'
import { edgeWith, type Fetcher, searchAll, shardsHolding } from './indexer-layout.ts'

const BEFORE = 8
const AFTER = 32
const eight = edgeWith({})
const moving = edgeWith({ INDEX_SHARDS: `${AFTER}`, INDEX_SHARDS_BEFORE: `${BEFORE}` })
const grown = edgeWith({ INDEX_SHARDS: `${AFTER}` })

const word = uniqueWord()
const alice = generateIdentity()
const authors: Identity[] = [alice, generateIdentity(), generateIdentity()]
const t = Date.now() - 60_000
const records: ContentRecord[] = Array.from({ length: 48 }, (_, i) =>
  signed(
    authors[i % 3] as Identity,
    'post',
    { title: `${word} `.repeat(1 + (i % 3)) },
    { name: `g${i}`, timestamp: t },
  ),
)
/** Keys whose shard changes when the count grows. */
const moves = (r: ContentRecord) => shardOf(r.key, AFTER) !== shardOf(r.key, BEFORE)
const PEER = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'

/** Another version of `r`'s key, by its author, at `timestamp`. */
function version(r: ContentRecord, title: string, timestamp: number): ContentRecord {
  const author = authors.find((a) => a.did === r.author) as Identity
  return signed(author, 'post', { title }, { name: r.key.split('/').at(-1) as string, timestamp })
}

const put = (fetcher: Fetcher, r: ContentRecord) =>
  fetcher(recordPath(r.key), { method: 'PUT', body: encodeRecord(r), headers: { 'Content-Type': 'application/cbor' } })

/** Every record readable (from KV, past the cache), listed by its author and found by search, through `fetcher`. */
async function everyRecordServed(fetcher: Fetcher, latest: readonly ContentRecord[]): Promise<void> {
  for (const r of latest) {
    const res = await fetcher(recordPath(r.key), { headers: { 'Cache-Control': 'no-cache' } })
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(encodeRecord(r))
  }
  const found = await searchAll(fetcher, word, 5)
  expect(found.map((r) => r.key).sort()).toEqual(latest.map((r) => r.key).sort())
  const listing = (await (await fetcher(`/v1/records?author=${alice.did}&limit=50`)).json()) as {
    records: { key: string; timestamp: number }[]
  }
  const alices = latest.filter((r) => r.author === alice.did)
  expect(listing.records.map((r) => [r.key, r.timestamp]).sort()).toEqual(
    alices.map((r) => [r.key, r.timestamp]).sort(),
  )
}

const moveDone = (i: number) =>
  runInDurableObject(env.INDEX_SHARD.getByName(shardName(i)), (_, state) =>
    state.storage.sql
      .exec<{ done: number }>('SELECT done FROM shard_move')
      .toArray()
      .some((r) => r.done === 1),
  )

/** Runs the old shards' alarms until each says its move is done. */
async function runMoves(): Promise<void> {
  const old = Array.from({ length: BEFORE }, (_, i) => i)
  for (let rounds = 0; rounds < 100; rounds++) {
    const left = (await Promise.all(old.map(async (i) => ((await moveDone(i)) ? [] : [i])))).flat()
    if (left.length === 0) return
    await Promise.all(left.map((i) => runDurableObjectAlarm(env.INDEX_SHARD.getByName(shardName(i)))))
  }
  throw new Error('the moves did not end')
}

describe('growing the index from 8 shards to 32', () => {
  const latest = [...records]
  const moved = records.find(moves) as ContentRecord
  const provided = records.find((r) => moves(r) && r !== moved) as ContentRecord
  const taken = records.find((r) => moves(r) && r !== moved && r !== provided) as ContentRecord

  it('before: records stored and a provider announced at 8 shards', async () => {
    for (const r of records) expect((await put(eight, r)).status).toBe(201)
    const announced = await eight(`/v1/providers${provided.key}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ peer: PEER, multiaddrs: ['/ip4/127.0.0.1/tcp/7'], ttl: 3600 }),
    })
    expect(announced.status).toBe(201)
    expect(records.filter(moves).length).toBeGreaterThan(records.length / 2)
  })

  it('a write at a key’s new shard takes the key over from its old shard first, and is judged against it', async () => {
    // Straight to the shard, before any request has started the old shards' moves.
    const key = taken.key
    const shard = env.INDEX_SHARD.getByName(shardName(shardOf(key, AFTER)))
    const previous = shardName(shardOf(key, BEFORE))
    expect(await shardsHolding(key, AFTER)).toEqual([shardOf(key, BEFORE)])
    const stale = await shard.write(encodeRecord(version(taken, 'older', t - 1000)), previous)
    expect([stale.outcome, stale.bytes]).toEqual(['stale', encodeRecord(taken)])
    expect(await shardsHolding(key, AFTER)).toEqual([shardOf(key, AFTER)])
    const newer = version(taken, word, t + 500)
    expect((await shard.write(encodeRecord(newer), previous)).outcome).toBe('replaced')
    latest[latest.indexOf(taken)] = newer
  })

  it('during the move: every record is served, and a write is judged against the latest record wherever it is', async () => {
    await everyRecordServed(moving, latest)
    const providers = (await (await moving(`/v1/providers${provided.key}`)).json()) as { providers: { peer: string }[] }
    expect(providers.providers.map((p) => p.peer)).toEqual([PEER])
    // A replay of an older record of a key still in its old shard is stale; a newer one takes the key over.
    await expectError(await put(moving, version(moved, 'older', t - 1000)), 409, ErrorCode.StaleRecord)
    const newer = version(moved, `${word} ${word} ${word} ${word}`, t + 1000)
    const res = await put(moving, newer)
    expect(res.status).toBe(200)
    expect(((await res.json()) as { outcome: string }).outcome).toBe('replaced')
    latest[latest.indexOf(moved)] = newer
    expect(await shardsHolding(moved.key, AFTER)).toEqual([shardOf(moved.key, AFTER)])
    await everyRecordServed(moving, latest)
  })

  it('the old shards started moving at the first request, and their alarms move every key to its shard', async () => {
    const told = await Promise.all(
      Array.from({ length: BEFORE }, (_, i) =>
        runInDurableObject(env.INDEX_SHARD.getByName(shardName(i)), (_, state) =>
          state.storage.sql.exec<{ idx: number; count: number }>('SELECT idx, count FROM shard_move').toArray(),
        ),
      ),
    )
    expect(told).toEqual(Array.from({ length: BEFORE }, (_, i) => [{ idx: i, count: AFTER }]))
    await runMoves()
    for (const r of records) expect(await shardsHolding(r.key, AFTER)).toEqual([shardOf(r.key, AFTER)])
  })

  it('after: with the count before cleared, every record and provider is served from its new shard', async () => {
    await everyRecordServed(grown, latest)
    const providers = (await (await grown(`/v1/providers${provided.key}`)).json()) as { providers: { peer: string }[] }
    expect(providers.providers.map((p) => p.peer)).toEqual([PEER])
  })

  it('a write that still reaches an old shard is sent on to the key’s shard', async () => {
    const newest = version(moved, word, t + 2000)
    // A Worker that still routes by 8 shards, as during a deploy's rollout.
    expect((await put(eight, newest)).status).toBe(200)
    latest[latest.indexOf(latest.find((r) => r.key === moved.key) as ContentRecord)] = newest
    expect(await shardsHolding(moved.key, AFTER)).toEqual([shardOf(moved.key, AFTER)])
    await everyRecordServed(grown, latest)
  })
})
