/**
 * One index shard's SQLite: the authoritative latest record of every key the
 * shard owns, the search index of the public ones, and the keys whose latest
 * record has not yet reached Workers KV. A record, its index entries and its
 * "not yet in KV" mark change in one transaction, so after a crash the shard
 * still knows exactly what KV is missing.
 *
 * The search index has two parts. `record_search` (FTS5) matches text and
 * ranks searches of two or more words with bm25. `search_terms` holds, for
 * every term of every indexed record, a weight fixed when the record is
 * written (`termWeight`, which depends on that record alone), ordered by
 * (term, kind, rank, id): a one-word search reads its best matches, and the
 * matches after a cursor, straight from that order, so a page costs the
 * same whether the word is in ten records or in all of them. FTS5's own
 * `rank` cannot do that: it is computed for every match of the query before
 * any `ORDER BY rank LIMIT` or `WHERE rank > ?` applies, so its cost grows
 * with the number of matches on every page.
 *
 * Terms are what FTS5's tokenizer makes of the text (Porter stems, without
 * diacritics): the text is written to `search_scratch`, a contentless FTS5
 * table with the same tokenizer, whose terms and counts `fts5vocab` lists,
 * and the scratch table is emptied again at once.
 */
import { bytesEqual, type ContentRecord, parseRecordKey, type RecordKind } from '@vivim/shared'
import { type IndexText, type TermCounts, termWeight } from './search-text.ts'

/** A stored record's row, its bytes undecoded. */
export interface StoredRow {
  readonly id: number
  readonly bytes: Uint8Array
}

/** The latest record of a key that KV does not have yet. */
export interface PendingRecord {
  readonly bytes: Uint8Array
  readonly signature: Uint8Array
}

/** Where a shard's listing of one search stands: its last (rank, id) returned. */
export interface ShardPosition {
  readonly rank: number
  readonly id: number
}

export interface ShardHit {
  readonly key: string
  /** Lower is more relevant: bm25 (two or more words), or minus the term's weight in ten-thousandths (one word). */
  readonly rank: number
  /** Higher is more relevant: minus bm25, or the term's weight. */
  readonly score: number
  /** The record's row id in its shard: ties of rank are listed in id order. */
  readonly id: number
  readonly bytes: Uint8Array
}

export interface ShardSearch {
  /** The words of the search, as `searchWords` cut them. */
  readonly words: readonly string[]
  /** The FTS5 query `ftsMatch` built from them, never raw user text. */
  readonly match: string
  /**
   * For one word, the one term it makes (null: none or several) if the
   * caller knows it (`termOf`), so the shard need not tokenize it again;
   * absent, the shard tokenizes the word itself.
   */
  readonly term?: string | null
  readonly kind: RecordKind | null
  /** The shard's position after the pages before, or null for a first page. */
  readonly after: ShardPosition | null
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
const TOKENIZER = "tokenize = 'porter unicode61 remove_diacritics 2'"
/** The kinds `indexText` may index (settings never are); `search_terms` stores a kind as its place here. */
const SEARCHED_KINDS: readonly RecordKind[] = ['profile', 'circle', 'conversation', 'post', 'document']
/** A weight is stored as a whole number of ten-thousandths (a rank of -12345 is a weight of 1.2345). */
const WEIGHT_SCALE = 10_000
/** Bumped when `search_terms` or `termWeight` changes: the table is rebuilt from the records on the next start. */
const TERMS_VERSION = 1

const kindCode = (kind: RecordKind): number => SEARCHED_KINDS.indexOf(kind)
/** Words whose terms a shard remembers (searches of one word tokenize it once). */
const TERM_CACHE_SIZE = 4_096

/** Thrown to roll back the scratch write a search's tokenizing makes. */
const ROLLBACK = Symbol('rollback')

export class ShardStore {
  private readonly storage: DurableObjectStorage
  private readonly termOfWord = new Map<string, string | null>()

  constructor(storage: DurableObjectStorage) {
    this.storage = storage
    storage.sql.exec(`CREATE TABLE IF NOT EXISTS records (
        id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, author TEXT NOT NULL,
        timestamp INTEGER NOT NULL, listed INTEGER NOT NULL, bytes BLOB NOT NULL);
      CREATE INDEX IF NOT EXISTS records_by_author ON records (author, key) WHERE listed = 1;
      CREATE VIRTUAL TABLE IF NOT EXISTS record_search USING fts5 (
        key UNINDEXED, kind UNINDEXED, title, body, ${TOKENIZER});
      CREATE TABLE IF NOT EXISTS kv_pending (key TEXT PRIMARY KEY, signature BLOB NOT NULL);
      CREATE VIRTUAL TABLE IF NOT EXISTS search_scratch USING fts5 (title, body, content = '', ${TOKENIZER});
      CREATE VIRTUAL TABLE IF NOT EXISTS search_scratch_terms USING fts5vocab (search_scratch, col);
      CREATE TABLE IF NOT EXISTS search_meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);`)
    this.buildTerms()
  }

  get(key: string): StoredRow | null {
    const row = this.storage.sql
      .exec<{ id: number; bytes: ArrayBuffer }>('SELECT id, bytes FROM records WHERE key = ?', key)
      .toArray()[0]
    return row ? { id: row.id, bytes: new Uint8Array(row.bytes) } : null
  }

  /**
   * Stores `record` as the key's latest and marks it for KV, atomically;
   * `beforeId` is the row it replaces, if any. The index is rewritten only
   * if the text it holds for the row is not `text`. `replicated` are marks
   * KV has caught up with since (`KvReplica.takeReplicated`), cleared in the
   * same transaction, before the new mark is set.
   */
  put(
    record: ContentRecord,
    bytes: Uint8Array,
    text: IndexText | null,
    beforeId: number | null,
    replicated: ReadonlyMap<string, Uint8Array> = new Map(),
  ): void {
    const { sql } = this.storage
    const { kind } = parseRecordKey(record.key)
    const listed = record.public && record.value.length > 0 ? 1 : 0
    this.storage.transactionSync(() => {
      this.clearMarks(replicated)
      let id: number
      if (beforeId !== null) {
        id = beforeId
        sql.exec(
          'UPDATE records SET author = ?, timestamp = ?, listed = ?, bytes = ? WHERE id = ?',
          record.author,
          record.timestamp,
          listed,
          bytes,
          id,
        )
      } else {
        id = sql
          .exec<{ id: number }>(
            'INSERT INTO records (key, kind, author, timestamp, listed, bytes) VALUES (?, ?, ?, ?, ?, ?) RETURNING id',
            record.key,
            kind,
            record.author,
            record.timestamp,
            listed,
            bytes,
          )
          .one().id
      }
      const old = beforeId === null ? null : this.indexedText(id)
      if (!sameText(old, text)) {
        if (old) this.unindex(id, kind, old)
        if (text) this.index(id, record.key, kind, text)
      }
      sql.exec(
        'INSERT INTO kv_pending (key, signature) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET signature = excluded.signature',
        record.key,
        record.signature,
      )
    })
  }

  /**
   * Deletes `key`'s record, its index entries and its KV mark, if the record
   * stored is still `bytes` (a record that moved to another shard: a newer
   * one written here since stays); whether it was deleted.
   */
  remove(key: string, bytes: Uint8Array): boolean {
    const { sql } = this.storage
    return this.storage.transactionSync(() => {
      const row = sql
        .exec<{ id: number; kind: RecordKind; bytes: ArrayBuffer }>(
          'SELECT id, kind, bytes FROM records WHERE key = ?',
          key,
        )
        .toArray()[0]
      if (!row || !bytesEqual(new Uint8Array(row.bytes), bytes)) return false
      const old = this.indexedText(row.id)
      if (old) this.unindex(row.id, row.kind, old)
      sql.exec('DELETE FROM records WHERE id = ?', row.id)
      sql.exec('DELETE FROM kv_pending WHERE key = ?', key)
      return true
    })
  }

  /** Drops `key`'s KV mark: another shard puts the key in KV from now on. */
  dropPending(key: string): void {
    this.storage.sql.exec('DELETE FROM kv_pending WHERE key = ?', key)
  }

  /** The latest record of `key` if KV does not have it yet. */
  pending(key: string): PendingRecord | null {
    const row = this.storage.sql
      .exec<{ bytes: ArrayBuffer; signature: ArrayBuffer }>(
        'SELECT r.bytes AS bytes, p.signature AS signature FROM kv_pending p JOIN records r ON r.key = p.key WHERE p.key = ?',
        key,
      )
      .toArray()[0]
    return row ? { bytes: new Uint8Array(row.bytes), signature: new Uint8Array(row.signature) } : null
  }

  /** Clears the KV mark of each key, unless a newer record (another signature) replaced the one KV now holds. */
  replicated(marks: ReadonlyMap<string, Uint8Array>): void {
    this.storage.transactionSync(() => this.clearMarks(marks))
  }

  private clearMarks(marks: ReadonlyMap<string, Uint8Array>): void {
    for (const [key, signature] of marks) {
      this.storage.sql.exec('DELETE FROM kv_pending WHERE key = ? AND signature = ?', key, signature)
    }
  }

  pendingKeys(limit: number): string[] {
    return this.storage.sql
      .exec<{ key: string }>('SELECT key FROM kv_pending LIMIT ?', limit)
      .toArray()
      .map((r) => r.key)
  }

  /**
   * Up to `limit` matches after `after`, in (rank, id) order: a total order,
   * so the shard's pages never repeat or skip a match. A search of one word
   * whose text is one term reads `search_terms` (ranks fixed per record, so
   * the order holds while other records are written); any other search is
   * ranked by FTS5's bm25, computed for every match (the order holds while
   * the shard's index is unchanged). Records are read for the rows returned only.
   */
  search(query: ShardSearch): ShardHit[] {
    const one = query.words.length === 1 ? (query.words[0] as string) : null
    const term = one === null ? null : query.term === undefined ? this.termOf(one) : query.term
    return term === null ? this.searchFts(query) : this.searchTerm(term, query)
  }

  /** An author's listed (public, not deleted) records after `afterKey`, in key order. */
  listByAuthor(listing: AuthorListing): Uint8Array[] {
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
      .map((r) => new Uint8Array(r.bytes))
  }

  /**
   * One word's best matches after `after`: each kind's range of
   * `search_terms` read in index order up to `limit` rows, the ranges merged,
   * and records read for the best `limit` only.
   */
  private searchTerm(term: string, query: ShardSearch): ShardHit[] {
    const { kind, after, limit } = query
    const kinds = kind === null ? SEARCHED_KINDS : [kind]
    const from = after ? 'AND (rank, id) > (?, ?)' : ''
    const range = `SELECT * FROM (SELECT rank, id FROM search_terms WHERE term = ? AND kind = ? ${from}
      ORDER BY rank, id LIMIT ?)`
    const bindings = kinds.flatMap((k) =>
      after ? [term, kindCode(k), after.rank, after.id, limit] : [term, kindCode(k), limit],
    )
    const rows = this.storage.sql.exec<{ key: string; rank: number; id: number; bytes: ArrayBuffer }>(
      `SELECT r.key AS key, page.rank AS rank, page.id AS id, r.bytes AS bytes FROM (
         ${kinds.map(() => range).join(' UNION ALL ')} ORDER BY rank, id LIMIT ?) AS page
       JOIN records r ON r.id = page.id
       ORDER BY page.rank, page.id`,
      ...bindings,
      limit,
    )
    return rows.toArray().map((r) => ({
      key: r.key,
      rank: r.rank,
      id: r.id,
      score: -r.rank / WEIGHT_SCALE,
      bytes: new Uint8Array(r.bytes),
    }))
  }

  private searchFts(query: ShardSearch): ShardHit[] {
    const { match, kind, after, limit } = query
    const from = after ? 'WHERE (score, id) > (?, ?)' : ''
    const bindings: (string | number | null)[] = [match, kind, kind]
    if (after) bindings.push(after.rank, after.id)
    bindings.push(limit)
    const rows = this.storage.sql.exec<{ key: string; rank: number; id: number; bytes: ArrayBuffer }>(
      `SELECT page.key AS key, page.score AS rank, page.id AS id, r.bytes AS bytes FROM (
         SELECT id, key, score FROM (
           SELECT rowid AS id, key, ${BM25} AS score FROM record_search
           WHERE record_search MATCH ? AND (? IS NULL OR kind = ?))
         ${from} ORDER BY score, id LIMIT ?) AS page
       JOIN records r ON r.id = page.id
       ORDER BY page.score, page.id`,
      ...bindings,
    )
    return rows
      .toArray()
      .map((r) => ({ key: r.key, rank: r.rank, id: r.id, score: -r.rank, bytes: new Uint8Array(r.bytes) }))
  }

  /** The text the index holds for row `id`, if any. */
  private indexedText(id: number): IndexText | null {
    return (
      this.storage.sql
        .exec<{ title: string; body: string }>('SELECT title, body FROM record_search WHERE rowid = ?', id)
        .toArray()[0] ?? null
    )
  }

  /** Adds a record's text to both parts of the index. */
  private index(id: number, key: string, kind: RecordKind, text: IndexText): void {
    const { sql } = this.storage
    sql.exec(
      'INSERT INTO record_search (rowid, key, kind, title, body) VALUES (?, ?, ?, ?, ?)',
      id,
      key,
      kind,
      text.title,
      text.body,
    )
    for (const [term, rank] of this.termRanks(text)) {
      sql.exec('INSERT INTO search_terms (term, kind, rank, id) VALUES (?, ?, ?, ?)', term, kindCode(kind), rank, id)
    }
  }

  /** Removes row `id`'s text, indexed as `kind`, from both parts of the index. */
  private unindex(id: number, kind: RecordKind, text: IndexText): void {
    const { sql } = this.storage
    sql.exec('DELETE FROM record_search WHERE rowid = ?', id)
    for (const [term, rank] of this.termRanks(text)) {
      sql.exec(
        'DELETE FROM search_terms WHERE term = ? AND kind = ? AND rank = ? AND id = ?',
        term,
        kindCode(kind),
        rank,
        id,
      )
    }
  }

  /** Each term of `text` with its rank (minus its weight); call inside a transaction. */
  private termRanks(text: IndexText): Map<string, number> {
    const counts = new Map<string, { title: number; body: number }>()
    let length = 0
    for (const row of this.tokenize(text.title, text.body)) {
      const count = counts.get(row.term) ?? { title: 0, body: 0 }
      if (row.col === 'title') count.title += row.cnt
      else count.body += row.cnt
      counts.set(row.term, count)
      length += row.cnt
    }
    const ranks = new Map<string, number>()
    for (const [term, count] of counts) {
      const tf: TermCounts = { title: count.title, body: count.body, length }
      ranks.set(term, -Math.round(termWeight(tf) * WEIGHT_SCALE))
    }
    return ranks
  }

  /** FTS5's terms of (title, body), through the scratch table, which is left empty. */
  private tokenize(title: string, body: string): { term: string; col: string; cnt: number }[] {
    const { sql } = this.storage
    sql.exec('INSERT INTO search_scratch (rowid, title, body) VALUES (1, ?, ?)', title, body)
    const rows = sql
      .exec<{ term: string; col: string; cnt: number }>('SELECT term, col, cnt FROM search_scratch_terms')
      .toArray()
    sql.exec("INSERT INTO search_scratch (search_scratch) VALUES ('delete-all')")
    return rows
  }

  /**
   * The one term FTS5 makes of `word`, or null if it makes none or several
   * (such a search goes to FTS5). Writes nothing: the scratch row is rolled
   * back at once.
   */
  termOf(word: string): string | null {
    const known = this.termOfWord.get(word)
    if (known !== undefined) return known
    let term: string | null = null
    try {
      // Inside a transaction rolled back at once: a search writes nothing.
      this.storage.transactionSync(() => {
        const terms = new Set(this.tokenize(word, '').map((r) => r.term))
        term = terms.size === 1 ? ([...terms][0] as string) : null
        throw ROLLBACK
      })
    } catch (error) {
      if (error !== ROLLBACK) throw error
    }
    if (this.termOfWord.size >= TERM_CACHE_SIZE) this.termOfWord.clear()
    this.termOfWord.set(word, term)
    return term
  }

  /** Builds `search_terms` from the indexed records unless it is of this version. */
  private buildTerms(): void {
    const { sql } = this.storage
    const row = sql.exec<{ value: number }>("SELECT value FROM search_meta WHERE name = 'terms'").toArray()[0]
    if (row?.value === TERMS_VERSION) return
    this.storage.transactionSync(() => {
      sql.exec(`DROP TABLE IF EXISTS search_terms;
        CREATE TABLE search_terms (
          term TEXT NOT NULL, kind INTEGER NOT NULL, rank INTEGER NOT NULL, id INTEGER NOT NULL,
          PRIMARY KEY (term, kind, rank, id)) WITHOUT ROWID;`)
      const indexed = sql.exec<{ id: number; kind: RecordKind; title: string; body: string }>(
        'SELECT s.rowid AS id, r.kind AS kind, s.title AS title, s.body AS body FROM record_search s JOIN records r ON r.id = s.rowid',
      )
      for (const { id, kind, title, body } of indexed.toArray()) {
        for (const [term, rank] of this.termRanks({ title, body })) {
          sql.exec(
            'INSERT INTO search_terms (term, kind, rank, id) VALUES (?, ?, ?, ?)',
            term,
            kindCode(kind),
            rank,
            id,
          )
        }
      }
      sql.exec(
        "INSERT INTO search_meta (name, value) VALUES ('terms', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        TERMS_VERSION,
      )
    })
  }
}

function sameText(a: IndexText | null, b: IndexText | null): boolean {
  return a === b || (a !== null && b !== null && a.title === b.title && a.body === b.body)
}
