import { env } from 'cloudflare:test'
import {
  type ContentRecord,
  createRecord,
  decodeRecord,
  encodeRecord,
  generateIdentity,
  recordToJson,
  selectRecord,
} from '@vivim/shared'
import { describe, expect, it } from 'vitest'
import { edge, get, getRecord, put, putBytes, recordPath, signed } from './indexer-client.ts'

async function inKv(key: string) {
  const bytes = await env.RECORDS.get(key, 'arrayBuffer')
  return bytes === null ? null : decodeRecord(new Uint8Array(bytes))
}

describe('records', () => {
  it('a PUT of canonical CBOR is stored in KV and read back byte for byte', async () => {
    const alice = generateIdentity()
    const record = signed(alice, 'profile', { displayName: 'Alice', bio: 'reads a lot' })
    const res = await put(record)
    expect(res.status).toBe(201)
    const body = (await res.json()) as { key: string; etag: string; outcome: string }
    expect(body).toMatchObject({ key: record.key, timestamp: record.timestamp, outcome: 'created' })
    expect(res.headers.get('etag')).toBe(body.etag)
    const got = await get(record.key)
    expect(got.status).toBe(200)
    expect(got.headers.get('content-type')).toBe('application/cbor')
    expect(got.headers.get('etag')).toBe(body.etag)
    expect(new Uint8Array(await got.arrayBuffer())).toEqual(encodeRecord(record))
    expect(await inKv(record.key)).toEqual(record)
  })

  it('the JSON form is accepted and served, and names the same record', async () => {
    const alice = generateIdentity()
    const record = signed(alice, 'circle', { name: 'Book club' }, { name: 'book-club' })
    const json = JSON.stringify(recordToJson(record))
    expect((await putBytes(record.key, json, 'application/json; charset=utf-8')).status).toBe(201)
    const res = await get(record.key, { Accept: 'application/json' })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^application\/json/)
    expect(await res.json()).toEqual(recordToJson(record))
    expect(res.headers.get('etag')).not.toBe((await get(record.key)).headers.get('etag'))
    expect(await getRecord(record.key)).toEqual(record)
  })

  it('the newer of two records wins whichever arrives first; the older is refused as stale', async () => {
    const alice = generateIdentity()
    const t = Date.now()
    const older = signed(alice, 'profile', { displayName: 'Old' }, { timestamp: t - 1000 })
    const newer = signed(alice, 'profile', { displayName: 'New' }, { timestamp: t })
    expect((await put(older)).status).toBe(201)
    expect((await put(newer)).status).toBe(200)
    expect(await getRecord(newer.key)).toEqual(newer)
    expect(await inKv(newer.key)).toEqual(newer)

    const bob = generateIdentity()
    const bobOlder = signed(bob, 'profile', { displayName: 'Old' }, { timestamp: t - 1000 })
    const bobNewer = signed(bob, 'profile', { displayName: 'New' }, { timestamp: t })
    expect((await put(bobNewer)).status).toBe(201)
    const stale = await put(bobOlder)
    expect(stale.status).toBe(409)
    expect(((await stale.json()) as { error: { code: string } }).error.code).toBe('stale_record')
    expect(await getRecord(bobNewer.key)).toEqual(bobNewer)
    expect(await inKv(bobNewer.key)).toEqual(bobNewer)
  })

  it('a timestamp tie goes to the same record in either order', async () => {
    const t = Date.now()
    for (const order of [0, 1]) {
      const alice = generateIdentity()
      const pair = ['a', 'b'].map((v) => signed(alice, 'post', { text: v }, { name: 'p', timestamp: t }))
      const [first, second] = order === 0 ? pair : [...pair].reverse()
      if (!first || !second) throw new Error('two records')
      const winner = selectRecord(first, second)
      await put(first)
      await put(second)
      expect(await getRecord(first.key)).toEqual(winner)
      expect(await inKv(first.key)).toEqual(winner)
    }
  })

  it('concurrent writes of one key never leave the older record in KV', async () => {
    const t = Date.now()
    for (let round = 0; round < 5; round++) {
      const alice = generateIdentity()
      const versions = Array.from({ length: 6 }, (_, i) =>
        signed(alice, 'profile', { displayName: `v${i}` }, { timestamp: t - 10_000 + i }),
      )
      const shuffled = round % 2 === 0 ? [...versions].reverse() : versions
      const statuses = await Promise.all(shuffled.map(async (r) => (await put(r)).status))
      expect(statuses.every((s) => s === 200 || s === 201 || s === 409)).toBe(true)
      const newest = versions.at(-1) as ContentRecord
      expect(await inKv(newest.key)).toEqual(newest)
      expect(await getRecord(newest.key, { 'Cache-Control': 'no-cache' })).toEqual(newest)
    }
  })

  it('the same record sent twice is kept once and answered 200', async () => {
    const record = signed(generateIdentity(), 'conversation', { title: 'Plans' }, { name: 'c1' })
    expect((await put(record)).status).toBe(201)
    const again = await put(record)
    expect(again.status).toBe(200)
    expect(((await again.json()) as { outcome: string }).outcome).toBe('unchanged')
  })

  it('a tombstone replaces the record and is served as one', async () => {
    const alice = generateIdentity()
    const record = signed(alice, 'post', { text: 'hello' }, { name: 'gone', timestamp: Date.now() - 1000 })
    await put(record)
    const tombstone = createRecord(alice, { key: record.key, value: new Uint8Array(0), public: true })
    expect((await put(tombstone)).status).toBe(200)
    expect((await getRecord(record.key))?.value).toEqual(new Uint8Array(0))
  })

  it('HEAD answers the headers of GET without a body, and an unknown key is 404', async () => {
    const record = signed(generateIdentity(), 'profile', { displayName: 'Head' })
    await put(record)
    const head = await edge(recordPath(record.key), { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(head.headers.get('etag')).toBeTruthy()
    expect(await head.text()).toBe('')
    const missing = await get(`/vivim/profile/${generateIdentity().did}`)
    expect(missing.status).toBe(404)
  })
})
