/**
 * A sealed document's SQLite: ciphertext entries in the order the room
 * accepted them, at most one snapshot (the newest), and the latest sequence
 * number. The room cannot merge ciphertext, so a snapshot is whatever a
 * client uploads: it replaces every entry up to the sequence it covers.
 */
import { ErrorCode, VivimError } from '@vivim/shared'

export interface SealedEntry {
  readonly seq: number
  readonly snap: boolean
  readonly data: Uint8Array
}

export class SealedDocStore {
  private readonly storage: DurableObjectStorage
  private latestSeq: number
  private bytes: number

  constructor(storage: DurableObjectStorage) {
    this.storage = storage
    storage.sql.exec(`CREATE TABLE IF NOT EXISTS sealed_entries (seq INTEGER PRIMARY KEY, snap INTEGER NOT NULL, data BLOB NOT NULL);
      CREATE TABLE IF NOT EXISTS sealed_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);`)
    const latest = storage.sql.exec<{ value: number }>("SELECT value FROM sealed_meta WHERE key = 'latest'").toArray()
    this.latestSeq = latest[0]?.value ?? 0
    this.bytes = storage.sql
      .exec<{ b: number }>('SELECT COALESCE(SUM(length(data)), 0) AS b FROM sealed_entries')
      .one().b
  }

  get latest(): number {
    return this.latestSeq
  }

  get storedBytes(): number {
    return this.bytes
  }

  append(data: Uint8Array): number {
    const seq = this.latestSeq + 1
    this.storage.sql.exec('INSERT INTO sealed_entries (seq, snap, data) VALUES (?, 0, ?)', seq, data)
    this.storage.sql.exec("INSERT OR REPLACE INTO sealed_meta (key, value) VALUES ('latest', ?)", seq)
    this.latestSeq = seq
    this.bytes += data.length
    return seq
  }

  /** Replaces entries 1..upto with `data`; refuses a snapshot older than the one held. */
  snapshot(upto: number, data: Uint8Array): void {
    if (upto < 1 || upto > this.latestSeq) {
      throw new VivimError(ErrorCode.BadRequest, `a snapshot covers entries 1..n with n at most ${this.latestSeq}`)
    }
    const held = this.storage.sql
      .exec<{ s: number | null }>('SELECT MAX(seq) AS s FROM sealed_entries WHERE snap = 1')
      .one().s
    if (held !== null && held >= upto) {
      throw new VivimError(ErrorCode.Conflict, `a snapshot up to ${held} is already stored`)
    }
    this.storage.transactionSync(() => {
      this.storage.sql.exec('DELETE FROM sealed_entries WHERE seq <= ?', upto)
      this.storage.sql.exec('INSERT INTO sealed_entries (seq, snap, data) VALUES (?, 1, ?)', upto, data)
    })
    this.bytes = this.storage.sql
      .exec<{ b: number }>('SELECT COALESCE(SUM(length(data)), 0) AS b FROM sealed_entries')
      .one().b
  }

  /** What a client that applied everything up to `after` lacks: the snapshot if it is newer, then entries. */
  after(after: number): SealedEntry[] {
    const rows = this.storage.sql
      .exec<{ seq: number; snap: number; data: ArrayBuffer }>('SELECT seq, snap, data FROM sealed_entries ORDER BY seq')
      .toArray()
    const snapshot = rows.find((r) => r.snap === 1)
    const from = snapshot && snapshot.seq > after ? snapshot.seq - 1 : after
    return rows
      .filter((r) => r.seq > from)
      .map((r) => ({ seq: r.seq, snap: r.snap === 1, data: new Uint8Array(r.data) }))
  }
}
