/**
 * The anchor the edge's search is measured against: one SQLite FTS5 table
 * in this Node process (`node:sqlite`, which has FTS5 compiled in), holding
 * the same text the edge indexes (`indexText`, the same tokenizer), queried
 * the textbook way: `ORDER BY rank LIMIT n + 1` with bm25 weighting titles
 * twice, and the next page by the keyset `(rank, rowid) > (?, ?)`. No
 * network, no Worker, no shards: what one SQLite does with the same corpus
 * and the same queries.
 */
import { DatabaseSync, type StatementSync } from 'node:sqlite'
import { type ContentRecord, parseRecordKey } from '@vivim/shared'
import { ftsMatch, indexText, searchWords } from '../../workers/indexer/search-text.ts'

export interface AnchorPage {
  readonly keys: string[]
  /** The page's last (rank, rowid) when there is a next page. */
  readonly next: { readonly rank: number; readonly id: number } | null
}

export class FtsAnchor {
  private readonly db = new DatabaseSync(':memory:')
  private readonly insert: StatementSync
  private readonly first: StatementSync
  private readonly after: StatementSync
  private rows = 0

  constructor() {
    this.db.exec(`CREATE VIRTUAL TABLE docs USING fts5 (
      key UNINDEXED, kind UNINDEXED, title, body, tokenize = 'porter unicode61 remove_diacritics 2');
      INSERT INTO docs (docs, rank) VALUES ('rank', 'bm25(0.0, 0.0, 2.0, 1.0)');`)
    this.insert = this.db.prepare('INSERT INTO docs (rowid, key, kind, title, body) VALUES (?, ?, ?, ?, ?)')
    const select = 'SELECT rowid AS id, key, rank FROM docs WHERE docs MATCH ?'
    this.first = this.db.prepare(`${select} ORDER BY rank, rowid LIMIT ?`)
    this.after = this.db.prepare(`${select} AND (rank, rowid) > (?, ?) ORDER BY rank, rowid LIMIT ?`)
  }

  /** Indexes `record` as the edge would (nothing if the edge would not index it). */
  add(record: ContentRecord): void {
    const text = indexText(record)
    if (!text) return
    this.insert.run(++this.rows, record.key, parseRecordKey(record.key).kind, text.title, text.body)
  }

  search(q: string, limit: number, after: AnchorPage['next'] = null): AnchorPage {
    const match = ftsMatch(searchWords(q))
    const rows = (
      after ? this.after.all(match, after.rank, after.id, limit + 1) : this.first.all(match, limit + 1)
    ) as { id: number; key: string; rank: number }[]
    const page = rows.slice(0, limit)
    const last = page.at(-1)
    return { keys: page.map((r) => r.key), next: rows.length > limit && last ? { rank: last.rank, id: last.id } : null }
  }

  get size(): number {
    return this.rows
  }
}
