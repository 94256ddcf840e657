import { env, runInDurableObject } from 'cloudflare:test'
import { base64urlnopad } from '@scure/base'
import { type ContentRecord, ErrorCode, encodeCanonical, generateIdentity, type Identity } from '@vivim/shared'
import { describe, expect, it } from 'vitest'
import { encodeSearchCursor } from '../indexer/page.ts'
import { ShardStore } from '../indexer/shard-store.ts'
import { SHARD_COUNT, shardFor, shardOf } from '../indexer/shards.ts'
import {
  edge,
  expectError,
  putOk,
  type SearchPage,
  searchKeys,
  searchPage,
  signed,
  uniqueWord,
} from './indexer-client.ts'

/** Records with `text` in their titles, some repeated, until every shard holds at least one. */
function spread(word: string, count: number, name: string, extra = ''): ContentRecord[] {
  const authors = Array.from({ length: 4 }, () => generateIdentity())
  const record = (i: number) => {
    const repeated = `${word} `.repeat(1 + (i % 3))
    const author = authors[i % authors.length] as Identity
    const title = i % 4 === 0 ? `${repeated}${extra}` : `untitled ${extra}`
    return signed(
      author,
      'post',
      { title, text: `${repeated}${'and more words '.repeat(i % 5)}` },
      { name: `${name}${i}` },
    )
  }
  const records = Array.from({ length: count }, (_, i) => record(i))
  while (new Set(records.map((r) => shardOf(r.key))).size < SHARD_COUNT) records.push(record(records.length))
  return records
}

async function allPages(
  params: Record<string, string>,
  between: (page: number) => Promise<void> = async () => {},
): Promise<SearchPage['results']> {
  const seen: SearchPage['results'] = []
  let cursor: string | null = null
  for (let pages = 0; pages < 40; pages++) {
    const page = await searchPage(cursor ? { ...params, cursor } : params)
    expect(page.results.length).toBeLessThanOrEqual(Number(params.limit))
    seen.push(...page.results)
    cursor = page.cursor
    if (!cursor) return seen
    await between(pages)
  }
  throw new Error('more than 40 pages')
}

describe('search pages', () => {
  it('a one-word search pages every record that was there from the start exactly once while records are added between pages', async () => {
    const word = uniqueWord()
    const records = spread(word, 30, 'p')
    await Promise.all(records.map((r) => putOk(r)))
    const added: ContentRecord[] = []
    const seen = await allPages({ q: word, limit: '4' }, async (page) => {
      // Each page, new records: some rank above every match, some below, on any shard.
      const author = generateIdentity()
      const top = signed(author, 'post', { title: `${word} ${word} ${word} ${word}` }, { name: `top${page}` })
      const bottom = signed(
        author,
        'post',
        { title: 'x', text: `${word} ${'filler '.repeat(40)}` },
        { name: `b${page}` },
      )
      added.push(top, bottom)
      await putOk(top)
      await putOk(bottom)
    })
    const keys = seen.map((r) => r.key)
    expect(new Set(keys).size).toBe(keys.length)
    const original = new Set(records.map((r) => r.key))
    expect(keys.filter((k) => original.has(k)).sort()).toEqual([...original].sort())
    const addedKeys = new Set(added.map((r) => r.key))
    expect(keys.every((k) => original.has(k) || addedKeys.has(k))).toBe(true)
  })

  it('a one-word search ranks by the same weights on every shard: pages come in score order', async () => {
    const word = uniqueWord()
    const records = spread(word, 24, 'o')
    await Promise.all(records.map((r) => putOk(r)))
    const seen = await allPages({ q: word, limit: '5' })
    expect(new Set(seen.map((r) => r.key))).toEqual(new Set(records.map((r) => r.key)))
    const scores = seen.map((r) => r.score)
    expect(scores).toEqual([...scores].sort((a, b) => b - a))
    expect(scores.every((s) => s > 0)).toBe(true)
  })

  it('pages stay exact when one shard holds more of a page than its share: every match once, in score order', async () => {
    const word = uniqueWord()
    const alice = generateIdentity()
    const onOneShard: ContentRecord[] = []
    for (let i = 0; onOneShard.length < 12; i++) {
      const record = signed(alice, 'post', { title: `${word} `.repeat(1 + (i % 4)), text: 'x' }, { name: `one${i}` })
      if (shardOf(record.key) === 3) onOneShard.push(record)
    }
    const elsewhere = spread(word, 8, 'e')
    await Promise.all([...onOneShard, ...elsewhere].map((r) => putOk(r)))
    for (const limit of ['5', '9']) {
      const seen = await allPages({ q: word, limit })
      expect(seen.map((r) => r.key).sort()).toEqual([...onOneShard, ...elsewhere].map((r) => r.key).sort())
      const scores = seen.map((r) => r.score)
      expect(scores).toEqual([...scores].sort((a, b) => b - a))
    }
  })

  it('a search of two words pages every match exactly once, across every shard, in rank order', async () => {
    const [word, other] = [uniqueWord(), uniqueWord()]
    const records = spread(word, 30, 't', other)
    await Promise.all(records.map((r) => putOk(r)))
    const seen = await allPages({ q: `${other} ${word}`, limit: '4' })
    expect(seen).toHaveLength(records.length)
    expect(new Set(seen.map((r) => r.key))).toEqual(new Set(records.map((r) => r.key)))
    const scores = seen.map((r) => r.score)
    expect(scores).toEqual([...scores].sort((a, b) => b - a))
  })

  it('a one-word search with a kind pages only that kind, and stemmed forms match', async () => {
    // Porter stems 'walking', 'walks' and 'walk' alike; the random consonants keep the word to this test.
    const stem = `qz${[...crypto.getRandomValues(new Uint8Array(12))].map((b) => 'bcdfghkmnp'[b % 10]).join('')}walk`
    const alice = generateIdentity()
    const circles = Array.from({ length: 7 }, (_, i) =>
      signed(alice, 'circle', { name: `${stem}ing club ${i}`, description: 'x' }, { name: `c${i}` }),
    )
    const posts = Array.from({ length: 5 }, (_, i) => signed(alice, 'post', { title: `${stem}s` }, { name: `p${i}` }))
    await Promise.all([...circles, ...posts].map((r) => putOk(r)))
    const seen = await allPages({ q: `${stem}ing`, kind: 'circle', limit: '2' })
    expect(seen.map((r) => r.key).sort()).toEqual(circles.map((r) => r.key).sort())
    expect((await searchKeys(stem)).sort()).toEqual([...circles, ...posts].map((r) => r.key).sort())
  })

  it('a record rewritten with the same text keeps one index entry per term, and new text replaces every old term', async () => {
    // Ending in x, so that Porter stemming leaves them as they are.
    const [word, kept, gone] = [`${uniqueWord()}x`, `${uniqueWord()}x`, `${uniqueWord()}x`]
    const alice = generateIdentity()
    const t = Date.now()
    const v1 = signed(alice, 'profile', { displayName: `${word} ${gone}`, email: 'a@b.c' }, { timestamp: t - 3000 })
    const v2 = signed(alice, 'profile', { displayName: `${word} ${gone}`, email: 'd@e.f' }, { timestamp: t - 2000 })
    const v3 = signed(alice, 'profile', { displayName: `${word} ${kept}` }, { timestamp: t - 1000 })
    const terms = () =>
      runInDurableObject(shardFor(env, v1.key), (_, state) =>
        state.storage.sql
          .exec<{ term: string }>(
            'SELECT t.term AS term FROM search_terms t JOIN records r ON r.id = t.id WHERE r.key = ? ORDER BY t.term',
            v1.key,
          )
          .toArray()
          .map((r) => r.term),
      )
    await putOk(v1)
    expect(await terms()).toEqual([gone, word].sort())
    await putOk(v2)
    expect(await terms()).toEqual([gone, word].sort())
    expect(await searchKeys(gone)).toEqual([v1.key])
    await putOk(v3)
    expect(await terms()).toEqual([kept, word].sort())
    expect(await searchKeys(gone)).toEqual([])
    expect(await searchKeys(kept)).toEqual([v1.key])
  })

  it('a search writes nothing to its shards', async () => {
    const word = uniqueWord()
    const alice = generateIdentity()
    const record = signed(alice, 'post', { title: word }, { name: 'nothing' })
    await putOk(record)
    const scratch = () =>
      runInDurableObject(shardFor(env, record.key), (_, state) => [
        state.storage.sql.exec<{ n: number }>('SELECT count(*) AS n FROM search_scratch_terms').one().n,
        state.storage.sql.exec<{ n: number }>('SELECT count(*) AS n FROM search_terms').one().n,
      ])
    const before = await scratch()
    expect(before[0]).toBe(0)
    expect(await searchKeys(word)).toEqual([record.key])
    expect(await searchKeys(`${uniqueWord()}`)).toEqual([])
    expect(await scratch()).toEqual(before)
  })

  it('a shard whose records predate the term weights builds them when it starts', async () => {
    const word = `${uniqueWord()}x`
    const alice = generateIdentity()
    const record = signed(alice, 'circle', { name: `${word} club`, description: 'old' }, { name: 'old' })
    await putOk(record)
    const rows = await runInDurableObject(shardFor(env, record.key), (_, state) => {
      // As a shard written before search_terms existed: no weights, no version.
      state.storage.sql.exec('DELETE FROM search_terms')
      state.storage.sql.exec('DELETE FROM search_meta')
      new ShardStore(state.storage)
      return state.storage.sql
        .exec<{ term: string }>('SELECT term FROM search_terms WHERE term = ?', word)
        .toArray()
        .map((r) => r.term)
    })
    expect(rows).toEqual([word])
    expect(await searchKeys(word)).toEqual([record.key])
  })

  const cursor = (value: unknown) => base64urlnopad.encode(encodeCanonical(value as never))
  const forged: [string, string][] = [
    ['too few shards', cursor({ p: Array(SHARD_COUNT - 1).fill(true) })],
    ['too many shards', cursor({ p: Array(SHARD_COUNT + 1).fill(true) })],
    ['a rank that is not a number', cursor({ p: [['x', 1], ...Array(SHARD_COUNT - 1).fill(true)] })],
    ['an id of zero', cursor({ p: [[-1.5, 0], ...Array(SHARD_COUNT - 1).fill(true)] })],
    ['a fractional id', cursor({ p: [[-1.5, 1.5], ...Array(SHARD_COUNT - 1).fill(true)] })],
    ['a position of three parts', cursor({ p: [[-1.5, 1, 2], ...Array(SHARD_COUNT - 1).fill(true)] })],
    ['an entry that is neither a position nor a flag', cursor({ p: [null, ...Array(SHARD_COUNT - 1).fill(true)] })],
    ['an extra field', cursor({ p: Array(SHARD_COUNT).fill(true), x: 1 })],
    ['a listing cursor', cursor({ a: 'x' })],
  ]
  it.each(forged)('a forged cursor (%s) is invalid_cursor', async (_, text) => {
    await expectError(await edge(`/v1/search?q=a&cursor=${text}`), 400, ErrorCode.InvalidCursor)
  })

  it('a well-formed cursor with any positions answers a page, never an error', async () => {
    const word = uniqueWord()
    await Promise.all(spread(word, 10, 'w').map((r) => putOk(r)))
    const far = Array.from({ length: SHARD_COUNT }, (_, i) => ({ rank: i % 2 ? -1e12 - 0.5 : 1e12 + 0.5, id: 2 ** 31 }))
    for (const q of [word, `${word} more`]) {
      const page = await searchPage({ q, cursor: encodeSearchCursor(far) })
      expect(page.results.length).toBeLessThanOrEqual(20)
      const done = await searchPage({ q, cursor: encodeSearchCursor(Array(SHARD_COUNT).fill('done')) })
      expect(done).toEqual({ results: [], cursor: null })
    }
  })
})
