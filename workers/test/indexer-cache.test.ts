import { env } from 'cloudflare:test'
import { encodeRecord, generateIdentity } from '@vivim/shared'
import { describe, expect, it } from 'vitest'
import { get, getRecord, put, signed } from './indexer-client.ts'

const NO_CACHE = { 'Cache-Control': 'no-cache' }

describe('the edge cache of records', () => {
  it('a read after a write is served from the cache, with a strong ETag that answers If-None-Match with 304', async () => {
    const record = signed(generateIdentity(), 'profile', { displayName: 'Cached' })
    await put(record)
    const first = await get(record.key)
    expect(first.status).toBe(200)
    expect(first.headers.get('x-vivim-cache')).toBe('hit')
    const etag = first.headers.get('etag') ?? ''
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{43}"$/)
    expect(first.headers.get('vary')).toBe('Accept')

    const revalidated = await get(record.key, { 'If-None-Match': etag })
    expect(revalidated.status).toBe(304)
    expect(revalidated.headers.get('etag')).toBe(etag)
    expect(await revalidated.text()).toBe('')
    expect((await get(record.key, { 'If-None-Match': `"other", W/${etag}` })).status).toBe(304)
    expect((await get(record.key, { 'If-None-Match': '"other"' })).status).toBe(200)

    const asJson = await get(record.key, { Accept: 'application/json' })
    const jsonTag = asJson.headers.get('etag') ?? ''
    expect(jsonTag).not.toBe(etag)
    expect((await get(record.key, { Accept: 'application/json', 'If-None-Match': jsonTag })).status).toBe(304)
    expect((await get(record.key, { Accept: 'application/json', 'If-None-Match': etag })).status).toBe(200)
  })

  it('a cold read comes from KV and warms the cache', async () => {
    const record = signed(generateIdentity(), 'profile', { displayName: 'Cold' })
    await put(record)
    const cold = await get(record.key, NO_CACHE)
    expect(cold.headers.get('x-vivim-cache')).toBe('miss')
    expect(new Uint8Array(await cold.arrayBuffer())).toEqual(encodeRecord(record))
    expect((await get(record.key)).headers.get('x-vivim-cache')).toBe('hit')
  })

  it('a cached record is never served after a newer write through the same edge', async () => {
    const alice = generateIdentity()
    const t = Date.now()
    const v1 = signed(alice, 'profile', { displayName: 'One' }, { timestamp: t - 2000 })
    const v2 = signed(alice, 'profile', { displayName: 'Two' }, { timestamp: t - 1000 })
    const v3 = signed(alice, 'profile', { displayName: 'Three' }, { timestamp: t })
    await put(v1)
    expect(await getRecord(v1.key)).toEqual(v1)
    expect((await get(v1.key)).headers.get('x-vivim-cache')).toBe('hit')
    await put(v2)
    expect(await getRecord(v1.key)).toEqual(v2)
    await put(v3)
    expect(await getRecord(v1.key)).toEqual(v3)
    expect(await getRecord(v1.key, NO_CACHE)).toEqual(v3)
  })

  it('a read that finds an older record in a lagging KV replica neither serves it nor caches it', async () => {
    const alice = generateIdentity()
    const older = signed(alice, 'profile', { displayName: 'Older' }, { timestamp: Date.now() - 1000 })
    const newer = signed(alice, 'profile', { displayName: 'Newer' })
    await put(older)
    await put(newer)
    // What a KV replica that has not seen the newer write yet would answer.
    await env.RECORDS.put(older.key, encodeRecord(older))
    expect(await getRecord(older.key, NO_CACHE)).toEqual(newer)
    expect(await getRecord(older.key)).toEqual(newer)
  })

  it('a refused stale write leaves the newer record cached', async () => {
    const alice = generateIdentity()
    const older = signed(alice, 'circle', { name: 'Old' }, { name: 'c', timestamp: Date.now() - 1000 })
    const newer = signed(alice, 'circle', { name: 'New' }, { name: 'c' })
    await put(newer)
    expect((await put(older)).status).toBe(409)
    const res = await get(newer.key)
    expect(res.headers.get('x-vivim-cache')).toBe('hit')
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(encodeRecord(newer))
  })
})
