/**
 * One index shard's SQLite: the authoritative latest record of every key the
 * shard owns, the FTS5 index of the public ones, and the keys whose latest
 * record has not yet reached Workers KV. A record, its index entry and its
 * "not yet in KV" mark change in one transaction, so after a crash the shard
 * still knows exactly what KV is missing.
 */
import { type ContentRecord, decodeRecord, parseRecordKey, type RecordKind } from '@vivim/shared'
import type { IndexText } from './search-text.ts'

export interface StoredRecord {
  readonly record: ContentRecord
  readonly bytes: Uint8Array
}

export interface ShardHit {
  readonly key: string
  /** bm25 of the shard's index: lower is more relevant. */
  readonly score: number
  readonly bytes: Uint8Array
}

export interface SearchAfter {
  readonly score: number
  readonly key: string
}

export interface ShardSearch {
  /** An FTS5 query built by `ftsMatch`, never raw user text. */
  readonly match: string
  readonly kind: RecordKind | null
  readonly after: SearchAfter | null
  readonly limit: number
}

export interface AuthorListing {
  readonly author: string
  readonly kind: RecordKind | null
  readonly afterKey: string | null
  readonly limit: number
}

/** bm25 over (key, kind, title, body): the two unindexed columns weigh nothing, titles twice as much as bodies. */
const BM25 = 'bm25(record_search, 0.0, 0.0, 2.0, 1.0)'

export class ShardStore {
  private readonly storage: DurableObjectStorage

  constructor(storage: DurableObjectStorage) {
    this.storage = storage
    storage.sql.exec(`CREATE TABLE IF NOT EXISTS records (
        id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, author TEXT NOT NULL,
        timestamp INTEGER NOT NULL, listed INTEGER NOT NULL, bytes BLOB NOT NULL);
      CREATE INDEX IF NOT EXISTS records_by_author ON records (author, key) WHERE listed = 1;
      CREATE VIRTUAL TABLE IF NOT EXISTS record_search USING fts5 (
        key UNINDEXED, kind UNINDEXED, title, body, tokenize = 'porter unicode61 remove_diacritics 2');
      CREATE TABLE IF NOT EXISTS kv_pending (key TEXT PRIMARY KEY, signature BLOB NOT NULL);`)
  }

  get(key: string): StoredRecord | null {
    const row = this.storage.sql
      .exec<{ bytes: ArrayBuffer }>('SELECT bytes FROM records WHERE key = ?', key)
      .toArray()[0]
    if (!row) return null
    const bytes = new Uint8Array(row.bytes)
    return { record: decodeRecord(bytes), bytes }
  }

  /** Stores `record` as the key's latest, reindexes it, and marks it for KV, atomically. */
  put(record: ContentRecord, bytes: Uint8Array, text: IndexText | null): void {
    const { sql } = this.storage
    const { kind } = parseRecordKey(record.key)
    const listed = record.public && record.value.length > 0 ? 1 : 0
    this.storage.transactionSync(() => {
      const id = sql
        .exec<{ id: number }>(
          `INSERT INTO records (key, kind, author, timestamp, listed, bytes) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (key) DO UPDATE SET author = excluded.author, timestamp = excluded.timestamp,
             listed = excluded.listed, bytes = excluded.bytes
           RETURNING id`,
          record.key,
          kind,
          record.author,
          record.timestamp,
          listed,
          bytes,
        )
        .one().id
      sql.exec('DELETE FROM record_search WHERE rowid = ?', id)
      if (text && listed) {
        sql.exec(
          'INSERT INTO record_search (rowid, key, kind, title, body) VALUES (?, ?, ?, ?, ?)',
          id,
          record.key,
          kind,
          text.title,
          text.body,
        )
      }
      sql.exec(
        'INSERT INTO kv_pending (key, signature) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET signature = excluded.signature',
        record.key,
        record.signature,
      )
    })
  }

  /** The latest record of `key` if KV does not have it yet. */
  pending(key: string): StoredRecord | null {
    const row = this.storage.sql
      .exec<{ bytes: ArrayBuffer }>(
        'SELECT r.bytes FROM kv_pending p JOIN records r ON r.key = p.key WHERE p.key = ?',
        key,
      )
      .toArray()[0]
    if (!row) return null
    const bytes = new Uint8Array(row.bytes)
    return { record: decodeRecord(bytes), bytes }
  }

  /** Clears the KV mark of `key`, unless a newer record replaced the one KV now holds. */
  replicated(record: ContentRecord): void {
    this.storage.sql.exec('DELETE FROM kv_pending WHERE key = ? AND signature = ?', record.key, record.signature)
  }

  pendingKeys(limit: number): string[] {
    return this.storage.sql
      .exec<{ key: string }>('SELECT key FROM kv_pending LIMIT ?', limit)
      .toArray()
      .map((r) => r.key)
  }

  /**
   * Up to `limit` matches after `after`, in (score, key) order: a total order,
   * so pages never repeat or skip. Every match is scored, but from the index
   * alone; records are read for the page's rows only.
   */
  search(query: ShardSearch): ShardHit[] {
    const { match, kind, after, limit } = query
    const rows = this.storage.sql
      .exec<{ key: string; score: number; bytes: ArrayBuffer }>(
        `SELECT page.key AS key, page.score AS score, r.bytes AS bytes FROM (
           SELECT id, key, score FROM (
             SELECT rowid AS id, key, ${BM25} AS score FROM record_search
             WHERE record_search MATCH ? AND (? IS NULL OR kind = ?))
           WHERE ? IS NULL OR score > ? OR (score = ? AND key > ?)
           ORDER BY score, key LIMIT ?) AS page
         JOIN records r ON r.id = page.id
         ORDER BY page.score, page.key`,
        match,
        kind,
        kind,
        after?.score ?? null,
        after?.score ?? null,
        after?.score ?? null,
        after?.key ?? null,
        limit,
      )
      .toArray()
    return rows.map((r) => ({ key: r.key, score: r.score, bytes: new Uint8Array(r.bytes) }))
  }

  /** An author's listed (public, not deleted) records after `afterKey`, in key order. */
  listByAuthor(listing: AuthorListing): StoredRecord[] {
    const { author, kind, afterKey, limit } = listing
    return this.storage.sql
      .exec<{ bytes: ArrayBuffer }>(
        `SELECT bytes FROM records WHERE author = ? AND listed = 1 AND key > ? AND (? IS NULL OR kind = ?)
         ORDER BY key LIMIT ?`,
        author,
        afterKey ?? '',
        kind,
        kind,
        limit,
      )
      .toArray()
      .map((r) => {
        const bytes = new Uint8Array(r.bytes)
        return { record: decodeRecord(bytes), bytes }
      })
  }
}
