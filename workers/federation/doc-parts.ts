/**
 * The inbox's store of `doc.part`s (`shared/src/federation-doc-parts.ts`):
 * parts of one update are kept by (`of`, `index`) until the set is complete,
 * then joined. Keeping a part twice changes nothing, so a redelivered part,
 * or a retry after a failed apply, is harmless. A sender stores the parts of
 * one update together and sends them in order, so an honest one has one
 * incomplete set at a time; a few are allowed, and a set left incomplete is
 * forgotten after a day.
 *
 * @example
 * ```ts
 * const whole = parts.add(activity) // null until the last part is in
 * if (whole) { await apply(whole); parts.drop(activity.of) }
 * ```
 */
import { type Activity, decodeActivity, ErrorCode, encodeActivity, joinDocParts, VivimError } from '@vivim/shared'

type DocPart = Extract<Activity, { t: 'doc.part' }>

/** Incomplete updates kept at once for one sender. */
const MAX_OPEN_SETS = 4
const PART_LIFETIME_MS = 24 * 60 * 60 * 1000

export class DocPartStore {
  private readonly sql: SqlStorage

  constructor(sql: SqlStorage) {
    this.sql = sql
    sql.exec(`CREATE TABLE IF NOT EXISTS parts (of TEXT NOT NULL, idx INTEGER NOT NULL, at INTEGER NOT NULL,
      activity BLOB NOT NULL, PRIMARY KEY (of, idx))`)
  }

  /** Keeps a part; the joined update once every part of its set is in, else null. Throws if the set is bad. */
  add(part: DocPart): Uint8Array | null {
    this.sql.exec('DELETE FROM parts WHERE at < ?', Date.now() - PART_LIFETIME_MS)
    const open = this.sql.exec<{ of: string }>('SELECT DISTINCT of FROM parts').toArray()
    if (open.length >= MAX_OPEN_SETS && !open.some((o) => o.of === part.of)) {
      throw new VivimError(ErrorCode.PayloadTooLarge, `more than ${MAX_OPEN_SETS} incomplete updates from one sender`)
    }
    this.sql.exec(
      'INSERT OR IGNORE INTO parts VALUES (?, ?, ?, ?)',
      part.of,
      part.index,
      Date.now(),
      encodeActivity(part),
    )
    const kept = this.sql
      .exec<{ activity: ArrayBuffer }>('SELECT activity FROM parts WHERE of = ?', part.of)
      .toArray()
      .map((r) => decodeActivity(new Uint8Array(r.activity)) as DocPart)
    if (kept.length < part.count) return null
    try {
      return joinDocParts(kept)
    } catch (error) {
      this.drop(part.of)
      throw error
    }
  }

  drop(of: string): void {
    this.sql.exec('DELETE FROM parts WHERE of = ?', of)
  }
}
