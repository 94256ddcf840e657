import { type ContentRecord, createRecord, generateIdentity, type RecordJson } from '@vivim/shared'
import { describe, expect, it } from 'vitest'
import { edge, putOk, signed } from './indexer-client.ts'

interface Listing {
  records: { key: string; kind: string; timestamp: number; record: RecordJson }[]
  cursor: string | null
}

async function list(params: Record<string, string>): Promise<Listing> {
  const res = await edge(`/v1/records?${new URLSearchParams(params)}`)
  expect(res.status).toBe(200)
  return (await res.json()) as Listing
}

async function listAll(params: Record<string, string>): Promise<string[]> {
  const keys: string[] = []
  let cursor: string | null = null
  for (let pages = 0; pages < 20; pages++) {
    const page: Listing = await list(cursor ? { ...params, cursor } : params)
    keys.push(...page.records.map((r) => r.key))
    cursor = page.cursor
    if (!cursor) return keys
  }
  throw new Error('more than 20 pages')
}

describe('discovery: an author’s public records', () => {
  it('lists every public, live record of the author exactly once, in key order, across pages', async () => {
    const alice = generateIdentity()
    const bob = generateIdentity()
    const posts = Array.from({ length: 11 }, (_, i) => signed(alice, 'post', { text: `${i}` }, { name: `p${i}` }))
    const profile = signed(alice, 'profile', { displayName: 'Alice' })
    const circle = signed(alice, 'circle', { name: 'Club' }, { name: 'club' })
    const hidden = signed(alice, 'circle', { name: 'Secret' }, { name: 'secret', public: false })
    const deleted = signed(alice, 'post', { text: 'gone' }, { name: 'gone', timestamp: Date.now() - 1000 })
    const notHers = signed(bob, 'post', { text: 'bob' }, { name: 'p0' })
    const listed: ContentRecord[] = [...posts, profile, circle]
    await Promise.all([...listed, hidden, deleted, notHers].map((r) => putOk(r)))
    await putOk(createRecord(alice, { key: deleted.key, value: new Uint8Array(0), public: true }))

    const keys = await listAll({ author: alice.did, limit: '4' })
    expect(keys).toEqual(listed.map((r) => r.key).sort())

    const first = await list({ author: alice.did, limit: '4' })
    expect(first.records).toHaveLength(4)
    const sample = first.records[0]
    expect(sample?.record.author).toBe(alice.did)
    expect(sample?.kind).toBe(sample?.key.split('/')[2])
  })

  it('filters by kind', async () => {
    const alice = generateIdentity()
    const circles = ['a', 'b', 'c'].map((name) => signed(alice, 'circle', { name }, { name }))
    await Promise.all([...circles, signed(alice, 'profile', { displayName: 'A' })].map((r) => putOk(r)))
    expect(await listAll({ author: alice.did, kind: 'circle', limit: '2' })).toEqual(circles.map((r) => r.key).sort())
    expect(await listAll({ author: alice.did, kind: 'conversation' })).toEqual([])
  })
})
