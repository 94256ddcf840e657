/**
 * Record routes: `PUT` and `GET /v1/records/<key>` (the key's own path, so
 * `/v1/records/vivim/profile/did:key:z…`), and an author's public records at
 * `GET /v1/records?author=`. A write is self-authenticating (the record's
 * signature, by the key's owner), so it needs no credential; it is fully
 * validated here (a non-owner author needs the owner's grant, valid at the
 * record's timestamp and at arrival, `delete` for a tombstone, not revoked), then
 * decided by the key's shard (`shards.ts`). Reads are served from
 * the edge cache, then KV, never from the shards.
 */
import {
  bytesEqual,
  type ContentRecord,
  capabilityChain,
  capabilityId,
  decodeCapability,
  decodeRecord,
  ErrorCode,
  encodeRecord,
  isDid,
  parseRecordKey,
  recordFromJson,
  recordToJson,
  VivimError,
  validateRecord,
} from '@vivim/shared'
import { type Context, Hono } from 'hono'
import { accepts } from 'hono/accepts'
import { revokedAmong } from '../auth/revocation-registry.ts'
import { edgeEvents } from '../extensions/events.ts'
import type { AppEnv } from '../http/types.ts'
import { decodeKeyCursor, encodeKeyCursor, kindFilter, pageLimit } from './page.ts'
import { type CachedRecord, cacheIfNewer, cacheKeyOf, etagOf, noneMatch, readCached } from './record-cache.ts'
import { CBOR, JSON_TYPE, mediaType, parseJson, pathKey } from './request-input.ts'
import { allShards, writerFor } from './shards.ts'

export const records = new Hono<AppEnv>()

/** A record written under an owner's grant is refused once any link of the grant is revoked. */
async function refuseRevokedGrant(env: Env, record: ContentRecord): Promise<void> {
  if (!record.cap) return
  const ids = capabilityChain(decodeCapability(record.cap)).map((link) => capabilityId(link))
  if ((await revokedAmong(env, ids)).length > 0) {
    throw new VivimError(ErrorCode.TokenRevoked, 'the grant this record was written under is revoked')
  }
}

async function readBody(c: Context<AppEnv>): Promise<{ record: ContentRecord; bytes: Uint8Array<ArrayBuffer> }> {
  const type = mediaType(c)
  const body = new Uint8Array(await c.req.arrayBuffer())
  if (type === CBOR) return { record: decodeRecord(body), bytes: body }
  if (type === JSON_TYPE) {
    const record = recordFromJson(parseJson(body))
    return { record, bytes: new Uint8Array(encodeRecord(record)) }
  }
  throw new VivimError(ErrorCode.UnsupportedMediaType, `a record is sent as ${CBOR} (or ${JSON_TYPE})`)
}

/** Hands a validated record to its key's shard (naming the key's old shard while keys move), which decides. */
function writeToShard(env: Env, bytes: Uint8Array<ArrayBuffer>) {
  const { shard, previous } = writerFor(env, decodeRecord(bytes).key)
  return shard.write(bytes, previous)
}

/**
 * A record this edge lacks, from the mesh or a federated peer: validated as
 * if it were written here, then kept by its shard so the next read is local.
 */
async function adoptFromElsewhere(env: Env, key: string): Promise<Uint8Array<ArrayBuffer> | null> {
  const bytes = await edgeEvents.recordMissed(env, { key })
  if (!bytes) return null
  const record = decodeRecord(bytes)
  if (record.key !== key) return null
  // Taken in now: a delegate's grant must still hold, as for a PUT.
  await validateRecord(record, { receiving: true })
  await refuseRevokedGrant(env, record)
  const result = await writeToShard(env, new Uint8Array(bytes))
  return new Uint8Array(result.bytes)
}

records.put('/v1/records/:key{.+}', async (c) => {
  const key = pathKey(c)
  const { record, bytes } = await readBody(c)
  if (record.key !== key) throw new VivimError(ErrorCode.InvalidKey, "the record's key is not the key in the path")
  // A delegate's grant must hold now, not only at the timestamp the delegate chose.
  await validateRecord(record, { receiving: true })
  await refuseRevokedGrant(c.env, record)
  const result = await writeToShard(c.env, bytes)
  const cacheKey = cacheKeyOf(c.req.url, key)
  if (result.outcome === 'stale') {
    await cacheIfNewer(caches.default, cacheKey, new Uint8Array(result.bytes))
    const latest = decodeRecord(result.bytes)
    throw new VivimError(
      ErrorCode.StaleRecord,
      `a newer record of this key is stored (timestamp ${latest.timestamp}); this one was not kept`,
    )
  }
  const cached = await cacheIfNewer(caches.default, cacheKey, bytes)
  c.executionCtx.waitUntil(edgeEvents.recordStored(c.env, { bytes }))
  // The cache holds this record unless a newer one won a race to it: then this record's tag is computed apart.
  const etag = bytesEqual(cached.bytes, bytes) ? cached.etag : await etagOf(bytes)
  c.header('ETag', etag)
  return c.json(
    { key, timestamp: record.timestamp, etag, outcome: result.outcome },
    result.outcome === 'created' ? 201 : 200,
  )
})

records.get('/v1/records/:key{.+}', async (c) => {
  const key = pathKey(c)
  const cacheKey = cacheKeyOf(c.req.url, key)
  const bypass = /(?:^|,)\s*no-cache\s*(?:,|$)/i.test(c.req.header('Cache-Control') ?? '')
  let found: CachedRecord | null = bypass ? null : await readCached(caches.default, cacheKey)
  const status = found ? 'hit' : 'miss'
  if (!found) {
    const kept = await c.env.RECORDS.get(key, 'arrayBuffer')
    const stored = kept ? new Uint8Array(kept) : await adoptFromElsewhere(c.env, key)
    if (stored === null) throw new VivimError(ErrorCode.NotFound, 'no record for this key')
    found = await cacheIfNewer(caches.default, cacheKey, stored)
  }
  const asJson = accepts(c, { header: 'Accept', supports: [CBOR, JSON_TYPE], default: CBOR }) === JSON_TYPE
  const etag = asJson ? await etagOf(found.bytes, 'json') : found.etag
  const headers = { ETag: etag, Vary: 'Accept', 'Cache-Control': 'no-cache', 'X-Vivim-Cache': status }
  if (noneMatch(c.req.header('If-None-Match'), etag)) return c.body(null, 304, headers)
  if (asJson) return c.json(recordToJson(decodeRecord(found.bytes)), 200, headers)
  return c.body(found.bytes, 200, { ...headers, 'Content-Type': CBOR })
})

records.get('/v1/records', async (c) => {
  const author = c.req.query('author')
  if (author === undefined) throw new VivimError(ErrorCode.InvalidQuery, 'author is required')
  if (!isDid(author)) throw new VivimError(ErrorCode.InvalidDid, 'author is not a did:key DID')
  const kind = kindFilter(c.req.query('kind'))
  const limit = pageLimit(c.req.query('limit'))
  const afterKey = decodeKeyCursor(c.req.query('cursor'))
  const pages = await Promise.all(
    allShards(c.env).map((shard) => shard.listByAuthor({ author, kind, afterKey, limit: limit + 1 })),
  )
  const found = pages
    .flat()
    .map((bytes) => decodeRecord(bytes))
    .sort((a, b) => (a.key < b.key ? -1 : 1))
  const page = found.slice(0, limit)
  const last = page.at(-1)
  return c.json({
    records: page.map((r) => ({
      key: r.key,
      kind: parseRecordKey(r.key).kind,
      timestamp: r.timestamp,
      record: recordToJson(r),
    })),
    cursor: found.length > limit && last ? encodeKeyCursor(last.key) : null,
  })
})
