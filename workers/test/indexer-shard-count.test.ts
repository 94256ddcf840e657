/**
 * The shard count as a setting (`INDEX_SHARDS`): an index of another count
 * stores, reads, lists and searches every record, a search page reaches a
 * bounded window of shards however many there are, and settings or cursors
 * that do not fit the count are refused.
 */
import { env, runInDurableObject } from 'cloudflare:test'
import { base64urlnopad } from '@scure/base'
import { type ContentRecord, ErrorCode, encodeCanonical, encodeRecord, generateIdentity } from '@vivim/shared'
import { describe, expect, it } from 'vitest'
import { encodeSearchCursor, SEARCH_WINDOW } from '../indexer/page.ts'
import { SHARD_COUNT, shardLayout, shardName, shardOf } from '../indexer/shards.ts'
import { expectError, recordPath, signed, uniqueWord } from './indexer-client.ts'
import { countingShards, edgeWith, type Fetcher, searchAll, shardsHolding } from './indexer-layout.ts'

const COUNT = 40

/** `count` public posts of one author with `word` in their titles, until they fall on at least `shards` shards. */
function posts(word: string, count: number, shards: number): ContentRecord[] {
  const alice = generateIdentity()
  const post = (i: number) =>
    signed(alice, 'post', { title: `${word} `.repeat(1 + (i % 3)), text: 'and more '.repeat(i % 4) }, { name: `p${i}` })
  const records = Array.from({ length: count }, (_, i) => post(i))
  while (new Set(records.map((r) => shardOf(r.key, COUNT))).size < shards) records.push(post(records.length))
  return records
}

async function putAll(fetcher: Fetcher, records: readonly ContentRecord[]): Promise<void> {
  for (const r of records) {
    const res = await fetcher(recordPath(r.key), {
      method: 'PUT',
      body: encodeRecord(r),
      headers: { 'Content-Type': 'application/cbor' },
    })
    expect(res.status).toBe(201)
  }
}

describe('an index of another shard count', () => {
  const forty = edgeWith({ INDEX_SHARDS: `${COUNT}` })

  it('stores each record in its shard of 40, and reads, lists and searches every one', async () => {
    const word = uniqueWord()
    const records = posts(word, 60, 36)
    await putAll(forty, records)
    for (const r of records.slice(0, 8)) expect(await shardsHolding(r.key, COUNT)).toEqual([shardOf(r.key, COUNT)])
    for (const r of records) expect((await forty(recordPath(r.key))).status).toBe(200)
    const found = await searchAll(forty, word, 7)
    expect(found.map((r) => r.key).sort()).toEqual(records.map((r) => r.key).sort())
    const listed = (await (await forty(`/v1/records?author=${records[0]?.author}&limit=50`)).json()) as {
      records: { key: string }[]
      cursor: string | null
    }
    expect(listed.records).toHaveLength(50)
    expect(listed.cursor).not.toBeNull()
  })

  it('a search page reaches at most one window of shards, and the pages reach every shard', async () => {
    const word = uniqueWord()
    await putAll(forty, posts(word, 50, COUNT))
    const { namespace, calls } = countingShards()
    const counted = edgeWith({ INDEX_SHARDS: `${COUNT}` }, { INDEX_SHARD: namespace })
    const reached = new Set<string>()
    let cursor: string | null = null
    for (let page = 0; page === 0 || cursor !== null; page++) {
      calls.length = 0
      const params = new URLSearchParams(cursor ? { q: word, limit: '5', cursor } : { q: word, limit: '5' })
      const body = (await (await counted(`/v1/search?${params}`)).json()) as { cursor: string | null }
      expect(new Set(calls).size).toBeLessThanOrEqual(SEARCH_WINDOW)
      expect(calls.length).toBeLessThanOrEqual(2 * SEARCH_WINDOW + 1)
      for (const name of calls) reached.add(name)
      cursor = body.cursor
    }
    expect(reached.size).toBe(COUNT)
  })

  it('a one-word search is in score order within each window of shards', async () => {
    const word = uniqueWord()
    const records = posts(word, 40, COUNT)
    await putAll(forty, records)
    const found = await searchAll(forty, word, 6)
    expect(found).toHaveLength(records.length)
    const window = (key: string) => Math.floor(shardOf(key, COUNT) / SEARCH_WINDOW)
    expect(found.map((r) => window(r.key))).toEqual(found.map((r) => window(r.key)).sort((a, b) => a - b))
    for (let w = 0; w * SEARCH_WINDOW < COUNT; w++) {
      const scores = found.filter((r) => window(r.key) === w).map((r) => r.score)
      expect(scores).toEqual([...scores].sort((a, b) => b - a))
    }
  })
})

describe('the shard count: bad input', () => {
  it('reads the layout from the settings: 8 shards unless set, and no move unless INDEX_SHARDS_BEFORE is set', () => {
    expect(shardLayout({})).toEqual({ count: SHARD_COUNT, before: null })
    expect(shardLayout({ INDEX_SHARDS: '', INDEX_SHARDS_BEFORE: '' })).toEqual({ count: SHARD_COUNT, before: null })
    expect(shardLayout({ INDEX_SHARDS: '64', INDEX_SHARDS_BEFORE: '16' })).toEqual({ count: 64, before: 16 })
  })

  it.each([
    ['a count that is not a number', { INDEX_SHARDS: 'eight' }],
    ['a count of zero', { INDEX_SHARDS: '0' }],
    ['a fractional count', { INDEX_SHARDS: '8.5' }],
    ['a negative count', { INDEX_SHARDS: '-8' }],
    ['a count with spaces', { INDEX_SHARDS: ' 8' }],
    ['a count past the most', { INDEX_SHARDS: '257' }],
    ['a count before that does not divide the count', { INDEX_SHARDS: '8', INDEX_SHARDS_BEFORE: '3' }],
    ['a count before as large as the count', { INDEX_SHARDS: '8', INDEX_SHARDS_BEFORE: '8' }],
    ['a count before larger than the count', { INDEX_SHARDS: '8', INDEX_SHARDS_BEFORE: '16' }],
    ['a count before that is not a number', { INDEX_SHARDS: '16', INDEX_SHARDS_BEFORE: 'x' }],
  ])('a setting with %s fails every indexer route with internal, naming the setting', async (_, vars) => {
    const bad = edgeWith(vars)
    const alice = generateIdentity()
    const r = signed(alice, 'profile', { displayName: 'x' })
    const put = { method: 'PUT', body: encodeRecord(r), headers: { 'Content-Type': 'application/cbor' } }
    for (const [path, init] of [
      [recordPath(r.key), put],
      [`/v1/records?author=${alice.did}`, {}],
      ['/v1/search?q=word', {}],
      [`/v1/providers${r.key}`, {}],
    ] as const) {
      const res = await bad(path, init)
      expect(res.status).toBe(500)
      const { error } = (await res.json()) as { error: { code: string; message: string } }
      expect(error.code).toBe(ErrorCode.Internal)
      expect(error.message).toMatch(/INDEX_SHARDS/)
    }
  })

  const cursor = (value: unknown) => base64urlnopad.encode(encodeCanonical(value as never))
  const window = (n: number, w?: number) =>
    cursor(w === undefined ? { p: Array(n).fill(true) } : { p: Array(n).fill(true), w })
  it.each([
    ['a window that does not start at a multiple of the window size', window(16, 8)],
    ['a window past the last shard', window(8, 48)],
    ['a first window named explicitly', window(16, 0)],
    ['a negative window', window(16, -16)],
    ['a fractional window', window(16, 16.5)],
    ['a window that is not a number', cursor({ p: Array(16).fill(true), w: '16' })],
    ['too few shards for the window', window(15, 16)],
    ['too many shards for the last window', window(16, 32)],
    ['a cursor of the default count', window(SHARD_COUNT)],
  ])('a forged cursor (%s) is invalid_cursor', async (_, text) => {
    await expectError(
      await edgeWith({ INDEX_SHARDS: `${COUNT}` })(`/v1/search?q=a&cursor=${text}`),
      400,
      ErrorCode.InvalidCursor,
    )
  })

  it.each([
    ['a shard past the count', { index: 8, count: 8 }],
    ['a negative shard', { index: -1, count: 16 }],
    ['a fractional count', { index: 1, count: 16.5 }],
    ['a count past the most', { index: 1, count: 4096 }],
  ])('a move order naming %s is refused, and the shard moves nothing', async (_, order) => {
    const shard = env.INDEX_SHARD.getByName(shardName(Math.max(order.index, 0)))
    expect(await shard.moveOut(order)).toEqual({
      ok: false,
      code: ErrorCode.BadRequest,
      message: expect.stringMatching(/^no shard/),
    })
    const rows = await runInDurableObject(shard, (_, state) =>
      state.storage.sql.exec('SELECT * FROM shard_move').toArray(),
    )
    expect(rows).toEqual([])
  })

  it('the cursor of a later window is one this edge gives out', async () => {
    const later = encodeSearchCursor(Array(COUNT - 32).fill('start'), 32)
    const res = await edgeWith({ INDEX_SHARDS: `${COUNT}` })(`/v1/search?q=${uniqueWord()}&cursor=${later}`)
    expect(await res.json()).toEqual({ results: [], cursor: null })
  })
})
