/**
 * Records in the edge cache (the Cache API, one cache per Cloudflare
 * location). Only the canonical CBOR form is cached, under one URL per key;
 * the JSON form is derived from it when served.
 *
 * A cached record must never be older than one written through the same
 * location, so a write puts its record into the cache (rather than only
 * purging, which would let the next read refill it from a KV replica that
 * has not seen the write yet), and nothing, neither a read refilling the
 * cache from KV nor a slower concurrent write, replaces a cached record with
 * one that `selectRecord` ranks lower. Entries live `EDGE_TTL_SECONDS`,
 * which bounds how long a write made through another location takes to show.
 */
import { base64urlnopad } from '@scure/base'
import { bytesEqual, decodeRecord, selectRecord } from '@vivim/shared'
import { CBOR } from './request-input.ts'

export const EDGE_TTL_SECONDS = 60

export interface CachedRecord {
  readonly bytes: Uint8Array<ArrayBuffer>
  readonly etag: string
}

/** The cache entry of `key` on the edge that answers `url`. */
export function cacheKeyOf(url: string, key: string): Request {
  return new Request(new URL(`/v1/records${key}`, url))
}

/**
 * A strong ETag of the record's CBOR bytes (SHA-256, base64url); the JSON
 * form of the same record gets its own. The runtime's native digest: every
 * write and every cache refill takes one.
 *
 * @example
 * ```ts
 * await etagOf(bytes) // '"n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg"'
 * ```
 */
export async function etagOf(bytes: Uint8Array<ArrayBuffer>, form: 'cbor' | 'json' = 'cbor'): Promise<string> {
  const hash = base64urlnopad.encode(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)))
  return form === 'cbor' ? `"${hash}"` : `"${hash}.json"`
}

/** Whether an `If-None-Match` header matches `etag` (RFC 9110 §13.1.2, weak comparison). */
export function noneMatch(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false
  if (header.trim() === '*') return true
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag)
}

export async function readCached(cache: Cache, cacheKey: Request): Promise<CachedRecord | null> {
  const hit = await cache.match(cacheKey)
  if (!hit) return null
  const bytes = new Uint8Array(await hit.arrayBuffer())
  return { bytes, etag: hit.headers.get('ETag') ?? (await etagOf(bytes)) }
}

/**
 * Caches `bytes` as the record of `cacheKey` unless the cache already holds
 * the same record or one that wins over it; returns what the cache holds.
 */
export async function cacheIfNewer(
  cache: Cache,
  cacheKey: Request,
  bytes: Uint8Array<ArrayBuffer>,
): Promise<CachedRecord> {
  const current = await readCached(cache, cacheKey)
  if (current) {
    if (bytesEqual(current.bytes, bytes)) return current
    const theirs = decodeRecord(current.bytes)
    if (selectRecord(theirs, decodeRecord(bytes)) === theirs) return current
  }
  const etag = await etagOf(bytes)
  const headers = { 'Content-Type': CBOR, ETag: etag, 'Cache-Control': `public, max-age=${EDGE_TTL_SECONDS}` }
  await cache.put(cacheKey, new Response(bytes, { headers }))
  return { bytes, etag }
}
