import { createRecord, generateIdentity, Limits, recordToJson } from '@vivim/shared'
import { describe, expect, it } from 'vitest'
import { SHARD_COUNT, shardOf } from '../indexer/shards.ts'
import { put, putOk, searchKeys, searchPage, signed, uniqueWord } from './indexer-client.ts'

describe('search', () => {
  it('finds public records by the string fields of their JSON value, with the record', async () => {
    const word = uniqueWord()
    const alice = generateIdentity()
    const profile = signed(alice, 'profile', { displayName: `Alice ${word}`, bio: 'beekeeper', email: 'x@y.z' })
    const circle = signed(alice, 'circle', { name: 'Garden club', description: `all about ${word}` }, { name: 'g' })
    const convo = signed(alice, 'conversation', { title: `${word} plans` }, { name: 'c' })
    for (const r of [profile, circle, convo]) await putOk(r)
    const page = await searchPage({ q: word })
    expect(page.results.map((r) => r.key).sort()).toEqual([profile.key, circle.key, convo.key].sort())
    const hit = page.results.find((r) => r.key === profile.key)
    expect(hit).toMatchObject({ kind: 'profile', author: alice.did, timestamp: profile.timestamp })
    expect(hit?.record).toEqual(recordToJson(profile))
    expect(page.cursor).toBeNull()
    expect(await searchKeys(`${word} beekeeper`)).toEqual([profile.key])
    expect(await searchKeys(word, { kind: 'circle' })).toEqual([circle.key])
    expect(await searchKeys(`${uniqueWord()} x@y.z`)).toEqual([])
  })

  it('ranks a match in a name above one in a description', async () => {
    const word = uniqueWord()
    const alice = generateIdentity()
    const inBody = signed(alice, 'circle', { name: 'Chess', description: `we play ${word} openings` }, { name: 'b' })
    const inTitle = signed(
      alice,
      'circle',
      { name: `${word} club`, description: 'we play chess openings' },
      { name: 't' },
    )
    await putOk(inBody)
    await putOk(inTitle)
    const { results } = await searchPage({ q: word })
    expect(results.map((r) => r.key)).toEqual([inTitle.key, inBody.key])
    expect(results[0]?.score).toBeGreaterThan(results[1]?.score ?? 0)
  })

  it('indexes nothing private, nothing that is not a JSON object, and no settings', async () => {
    const word = uniqueWord()
    const alice = generateIdentity()
    await putOk(signed(alice, 'profile', { displayName: word }, { public: false }))
    await putOk(signed(alice, 'post', new TextEncoder().encode(`title ${word}`), { name: 'raw' }))
    await putOk(signed(alice, 'post', [word], { name: 'array' }))
    await putOk(signed(alice, 'post', new Uint8Array([0xff, 0xfe, 0x7b]), { name: 'binary' }))
    await putOk(signed(alice, 'settings', { theme: word }))
    expect(await searchKeys(word)).toEqual([])
  })

  it('a newer version replaces the old text in the index, and a tombstone removes the record', async () => {
    const [before, after] = [uniqueWord(), uniqueWord()]
    const alice = generateIdentity()
    const t = Date.now()
    const v1 = signed(alice, 'post', { title: before }, { name: 'p', timestamp: t - 2000 })
    const v2 = signed(alice, 'post', { title: after }, { name: 'p', timestamp: t - 1000 })
    await putOk(v1)
    expect(await searchKeys(before)).toEqual([v1.key])
    await putOk(v2)
    expect(await searchKeys(before)).toEqual([])
    expect(await searchKeys(after)).toEqual([v2.key])
    await putOk(createRecord(alice, { key: v2.key, value: new Uint8Array(0), public: true, timestamp: t }))
    expect(await searchKeys(after)).toEqual([])
  })

  it('a record made private leaves the index', async () => {
    const word = uniqueWord()
    const alice = generateIdentity()
    const t = Date.now()
    await putOk(signed(alice, 'profile', { displayName: word }, { timestamp: t - 1000 }))
    expect(await searchKeys(word)).toHaveLength(1)
    await putOk(signed(alice, 'profile', { displayName: word }, { timestamp: t, public: false }))
    expect(await searchKeys(word)).toEqual([])
  })

  it('pagination returns every match exactly once, across every shard, in rank order', async () => {
    const word = uniqueWord()
    const authors = Array.from({ length: 4 }, () => generateIdentity())
    const record = (i: number) => {
      const filler = 'and more words '.repeat(i % 5)
      const repeated = `${word} `.repeat(1 + (i % 3))
      const title = i % 4 === 0 ? `${repeated}` : 'untitled'
      const author = authors[i % authors.length] ?? generateIdentity()
      return signed(author, 'post', { title, text: `${repeated}${filler}` }, { name: `p${i}` })
    }
    // Keys are random, so 37 of them miss a shard now and then: add records until every shard holds one.
    const records = Array.from({ length: 37 }, (_, i) => record(i))
    while (new Set(records.map((r) => shardOf(r.key))).size < SHARD_COUNT) records.push(record(records.length))
    await Promise.all(records.map((r) => putOk(r)))
    expect(new Set(records.map((r) => shardOf(r.key))).size).toBe(SHARD_COUNT)

    const seen: string[] = []
    const scores: number[] = []
    let cursor: string | null = null
    for (let pages = 0; pages < 20; pages++) {
      const page = await searchPage(cursor ? { q: word, limit: '5', cursor } : { q: word, limit: '5' })
      expect(page.results.length).toBeLessThanOrEqual(5)
      seen.push(...page.results.map((r) => r.key))
      scores.push(...page.results.map((r) => r.score))
      cursor = page.cursor
      if (!cursor) break
    }
    expect(cursor).toBeNull()
    expect(seen).toHaveLength(records.length)
    expect(new Set(seen)).toEqual(new Set(records.map((r) => r.key)))
    expect(scores).toEqual([...scores].sort((a, b) => b - a))
  })

  it('search text is never FTS5 syntax: operators, quotes and column filters are plain words', async () => {
    const [a, b] = [uniqueWord(), uniqueWord()]
    const alice = generateIdentity()
    await putOk(signed(alice, 'post', { title: a }, { name: 'a' }))
    await putOk(signed(alice, 'post', { title: b }, { name: 'b' }))
    const hostile = [
      `${a} OR ${b}`,
      `"${a}" OR "${b}"`,
      `title:${a} OR body:${b}`,
      `${a} NOT ${b}`,
      `NEAR(${a} ${b})`,
      `{title body}: ${a} + ${b}`,
      `${a}* ^${b}`,
      `(${a}) ) ( " ${b}`,
      `key:${a}`,
    ]
    for (const q of hostile) {
      const res = await searchPage({ q })
      expect(res.results).toEqual([])
    }
    expect(await searchKeys(`"${a}"*`)).toHaveLength(1)
    expect(await searchKeys(`-${a}-`)).toHaveLength(1)
  })

  it('a limit at the maximum is accepted', async () => {
    expect((await searchPage({ q: uniqueWord(), limit: String(Limits.maxPageSize) })).results).toEqual([])
  })

  it('a stale write changes nothing in the index', async () => {
    const [word, old] = [uniqueWord(), uniqueWord()]
    const alice = generateIdentity()
    const newer = signed(alice, 'profile', { displayName: word })
    await putOk(newer)
    expect((await put(signed(alice, 'profile', { displayName: old }, { timestamp: Date.now() - 60_000 }))).status).toBe(
      409,
    )
    expect(await searchKeys(old)).toEqual([])
    expect(await searchKeys(word)).toEqual([newer.key])
  })
})
