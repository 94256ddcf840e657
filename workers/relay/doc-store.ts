/**
 * A document's durable storage in its room's SQLite: an append log of Yjs
 * updates and a snapshot (the merged state) that compaction rewrites when
 * the log grows past a threshold, so storage is bounded by the document, not
 * by its history (at most twice its encoded size, plus a megabyte). The snapshot is split into chunks because a SQLite value
 * in a Durable Object holds at most 2 MB.
 */

export interface DocStoreOptions {
  /** Compact when the log holds this many bytes and at least as many as the snapshot… */
  readonly compactAfterBytes: number
  /** …or this many updates. */
  readonly compactAfterRows: number
}

export const DEFAULT_DOC_STORE_OPTIONS: DocStoreOptions = { compactAfterBytes: 1 << 20, compactAfterRows: 5000 }

/** A SQLite value in a Durable Object holds at most 2 MB: large states are stored in chunks of this size. */
const CHUNK_BYTES = 1 << 20

/** `bytes` as numbered chunks of at most `CHUNK_BYTES`, to store one row each. */
export function* chunksOf(bytes: Uint8Array): Generator<[number, Uint8Array]> {
  for (let offset = 0, chunk = 0; offset < bytes.length; offset += CHUNK_BYTES, chunk++) {
    yield [chunk, bytes.subarray(offset, offset + CHUNK_BYTES)]
  }
}

export interface StoredDoc {
  readonly snapshot: Uint8Array | null
  readonly updates: Uint8Array[]
}

export class DocStore {
  private logBytes: number
  private logRows: number
  private snapshotBytes: number
  private boundDocId: string | null = null
  private readonly storage: DurableObjectStorage
  private readonly options: DocStoreOptions

  constructor(storage: DurableObjectStorage, options: DocStoreOptions = DEFAULT_DOC_STORE_OPTIONS) {
    this.storage = storage
    this.options = options
    const { sql } = storage
    sql.exec(`CREATE TABLE IF NOT EXISTS doc_updates (seq INTEGER PRIMARY KEY AUTOINCREMENT, data BLOB NOT NULL);
      CREATE TABLE IF NOT EXISTS doc_snapshot (chunk INTEGER PRIMARY KEY, data BLOB NOT NULL);
      CREATE TABLE IF NOT EXISTS doc_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);`)
    const log = sql
      .exec<{ rows: number; bytes: number }>(
        'SELECT COUNT(*) AS rows, COALESCE(SUM(length(data)), 0) AS bytes FROM doc_updates',
      )
      .one()
    this.logRows = log.rows
    this.logBytes = log.bytes
    this.snapshotBytes = sql
      .exec<{ bytes: number }>('SELECT COALESCE(SUM(length(data)), 0) AS bytes FROM doc_snapshot')
      .one().bytes
  }

  /** Bytes stored for the document: snapshot plus log. An upper bound of its encoded size. */
  get storedBytes(): number {
    return this.snapshotBytes + this.logBytes
  }

  get logLength(): number {
    return this.logRows
  }

  /** The document id this room serves; set on first use and never changed. */
  bindDocId(docId: string): string {
    if (this.docId() === null) {
      this.storage.sql.exec("INSERT OR IGNORE INTO doc_meta (key, value) VALUES ('docId', ?)", docId)
      this.boundDocId = docId
    }
    return this.docId() as string
  }

  /** Read once: it never changes after it is bound, and every flush asks for it. */
  docId(): string | null {
    if (this.boundDocId === null) {
      const rows = this.storage.sql.exec<{ value: string }>("SELECT value FROM doc_meta WHERE key = 'docId'").toArray()
      this.boundDocId = rows[0]?.value ?? null
    }
    return this.boundDocId
  }

  load(): StoredDoc {
    const { sql } = this.storage
    const chunks = sql
      .exec<{ data: ArrayBuffer }>('SELECT data FROM doc_snapshot ORDER BY chunk')
      .toArray()
      .map((r) => new Uint8Array(r.data))
    const updates = sql
      .exec<{ data: ArrayBuffer }>('SELECT data FROM doc_updates ORDER BY seq')
      .toArray()
      .map((r) => new Uint8Array(r.data))
    return { snapshot: chunks.length === 0 ? null : concat(chunks), updates }
  }

  append(update: Uint8Array): void {
    this.storage.sql.exec('INSERT INTO doc_updates (data) VALUES (?)', update)
    this.logRows += 1
    this.logBytes += update.length
  }

  shouldCompact(): boolean {
    // Waiting for the log to reach the snapshot's size keeps a large document from
    // being rewritten whole on every megabyte of edits, and bounds storage at twice the document.
    const bytesThreshold = Math.max(this.options.compactAfterBytes, this.snapshotBytes)
    return this.logRows >= this.options.compactAfterRows || this.logBytes >= bytesThreshold
  }

  /** Replaces snapshot and log with `state`, which must hold everything stored, atomically. */
  compact(state: Uint8Array): void {
    const { sql } = this.storage
    this.storage.transactionSync(() => {
      sql.exec('DELETE FROM doc_snapshot')
      for (const [chunk, data] of chunksOf(state))
        sql.exec('INSERT INTO doc_snapshot (chunk, data) VALUES (?, ?)', chunk, data)
      sql.exec('DELETE FROM doc_updates')
    })
    this.snapshotBytes = state.length
    this.logBytes = 0
    this.logRows = 0
  }
}

/** The chunks read back, joined. */
export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let offset = 0
  for (const p of parts) {
    out.set(p, offset)
    offset += p.length
  }
  return out
}
