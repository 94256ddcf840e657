/**
 * The content registry from an app: signed records (`put`, `get`),
 * providers (`provide`, `findProviders`) and `search`. Records read from
 * the edge are validated here too, so an app never trusts the edge for what
 * an author signed.
 *
 * @example
 * ```ts
 * await client.records.put(createRecord(me, { key, value, public: true }))
 * const found = await client.records.search('book club', { kind: 'circle' })
 * ```
 */
import {
  type ContentRecord,
  decodeRecord,
  encodeRecord,
  type ProviderEntry,
  type RecordJson,
  type RecordKind,
  recordFromJson,
  validateRecord,
} from '@vivim/shared'
import { request, type TokenSource } from './http.ts'

/** One search result: a public record and its score (higher is better). */
export interface SearchHit {
  readonly key: string
  readonly kind: RecordKind
  readonly author: string
  readonly score: number
  readonly record: ContentRecord
}

/** One page of results; pass `cursor` back for the next, null on the last. */
export interface Page<T> {
  readonly results: T[]
  readonly cursor: string | null
}

/**
 * The edge's record registry, providers and search over HTTP (`/v1/records`, `/v1/providers`, `/v1/search`).
 *
 * @example
 * ```ts
 * const record = createRecord(me, { key: formatRecordKey({ kind: 'post', owner: me.did, name: 'p1' }), value, public: true })
 * await client.records.put(record)
 * const page = await client.records.search('hello')
 * ```
 */
export class RecordsClient {
  private readonly base: string
  private readonly token: TokenSource | undefined

  constructor(edgeHttpUrl: string, token?: TokenSource) {
    this.base = edgeHttpUrl
    this.token = token
  }

  /** Stores a signed record; `outcome` is `created`, `replaced` or `unchanged`. Throws `stale_record` if a newer one is stored. */
  async put(record: ContentRecord): Promise<{ key: string; etag: string; outcome: string }> {
    const res = await request(
      `${this.base}/v1/records${record.key}`,
      {
        method: 'PUT',
        body: encodeRecord(record) as Uint8Array<ArrayBuffer>,
        headers: { 'Content-Type': 'application/cbor' },
      },
      this.token,
    )
    return (await res.json()) as { key: string; etag: string; outcome: string }
  }

  /** The record stored for `key`, validated; null when there is none. */
  async get(key: string): Promise<ContentRecord | null> {
    const res = await request(`${this.base}/v1/records${key}`, { headers: { Accept: 'application/cbor' } }, this.token)
    if (res.status === 404) return null
    const record = decodeRecord(new Uint8Array(await res.arrayBuffer()))
    await validateRecord(record)
    return record
  }

  /** Announces that `peer` holds the content of `key` (for `ttl` seconds). */
  async provide(key: string, announcement: { peer: string; multiaddrs?: string[]; ttl?: number }): Promise<void> {
    await request(
      `${this.base}/v1/providers${key}`,
      { method: 'POST', body: JSON.stringify(announcement), headers: { 'Content-Type': 'application/json' } },
      this.token,
    )
  }

  /** The live providers of `key`, longest-lived first. */
  async findProviders(key: string): Promise<ProviderEntry[]> {
    const res = await request(`${this.base}/v1/providers${key}`, {}, this.token)
    return ((await res.json()) as { providers: ProviderEntry[] }).providers
  }

  /** Full-text search over public records, best first. */
  async search(
    q: string,
    options: { kind?: RecordKind; limit?: number; cursor?: string } = {},
  ): Promise<Page<SearchHit>> {
    const query = new URLSearchParams({ q })
    if (options.kind) query.set('kind', options.kind)
    if (options.limit) query.set('limit', String(options.limit))
    if (options.cursor) query.set('cursor', options.cursor)
    const res = await request(`${this.base}/v1/search?${query}`, {}, this.token)
    const body = (await res.json()) as {
      results: (Omit<SearchHit, 'record'> & { record: RecordJson })[]
      cursor: string | null
    }
    return {
      cursor: body.cursor,
      results: await Promise.all(
        body.results.map(async (hit) => {
          const record = recordFromJson(hit.record)
          await validateRecord(record)
          return { key: hit.key, kind: hit.kind, author: hit.author, score: hit.score, record }
        }),
      ),
    }
  }
}
