/**
 * The message ids a topic room has accepted, kept apart from its history so
 * that a message stays known for as long as its timestamp would be accepted
 * (`TOPIC_HISTORY_SECONDS`), however short the history window is. Without
 * this, a message that fell out of the last `TOPIC_HISTORY_MESSAGES` could
 * be sent again and would be stored and fanned out as new, in its author's
 * name, for up to a day.
 *
 * State: one row per accepted message (id, author's timestamp, cursor) in the
 * `TopicRoom` Durable Object's own SQLite, one object per topic. It grows by
 * one row per message the room accepts and shrinks as timestamps pass the
 * accepted age. It never holds more than `maxIds` rows: past that the oldest
 * (by timestamp) are dropped and a floor is raised to the newest dropped
 * timestamp, stored with the rows; an envelope at or below the floor is
 * refused as stale, since the room could no longer tell whether it saw it.
 */
import { ErrorCode, Limits, VivimError } from '@vivim/shared'

const FLOOR_KEY = 'seen_floor'
const BACKFILLED_KEY = 'seen_backfilled'

export class TopicSeenIds {
  private readonly sql: SqlStorage
  private readonly maxIds: number
  private count: number
  private floorTs: number

  /** Needs the `topic_messages` and `topic_meta` tables of `topic-store.ts`. */
  constructor(sql: SqlStorage, maxIds: number = Limits.maxTopicSeenIds) {
    this.sql = sql
    this.maxIds = maxIds
    this.sql.exec(`CREATE TABLE IF NOT EXISTS topic_seen (
        id TEXT PRIMARY KEY, ts INTEGER NOT NULL, cursor INTEGER NOT NULL) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS topic_seen_ts ON topic_seen (ts);`)
    // A room that kept only its history before this table existed knows at least those ids.
    if (this.meta(BACKFILLED_KEY) === null) {
      this.sql.exec('INSERT OR IGNORE INTO topic_seen (id, ts, cursor) SELECT id, ts, cursor FROM topic_messages')
      this.sql.exec("INSERT OR REPLACE INTO topic_meta (key, value) VALUES (?, '1')", BACKFILLED_KEY)
    }
    this.count = this.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM topic_seen').one().n
    this.floorTs = Number(this.meta(FLOOR_KEY) ?? -1)
  }

  /** Timestamps at or below this are refused: ids that old may have been forgotten. -1 before any were. */
  get floor(): number {
    return this.floorTs
  }

  /** How many ids are held. */
  get size(): number {
    return this.count
  }

  /** The cursor the message was stored at, if its id is known. */
  cursorOf(id: string): number | null {
    const row = this.sql.exec<{ cursor: number }>('SELECT cursor FROM topic_seen WHERE id = ?', id).toArray()[0]
    return row?.cursor ?? null
  }

  /** Throws `stale_record` for a timestamp the room can no longer deduplicate. */
  checkFloor(timestamp: number): void {
    if (timestamp <= this.floorTs) {
      throw new VivimError(ErrorCode.StaleRecord, 'message is older than the message ids this topic still remembers')
    }
  }

  /**
   * Records a message about to be stored at `cursor`, unless its id is known:
   * then nothing changes and the cursor it was stored at is returned. Throws
   * `stale_record` for a timestamp at or below the floor that is not known.
   * Past `maxIds` ids, it first forgets those dated before `oldestAccepted`,
   * then the oldest ones, raising the floor to cover them, but never
   * past `now` less the allowed clock skew: timestamps may run ahead of the
   * clock by that skew, and a floor near or past `now` would refuse every
   * honest publish until it passed (a writer could lock a topic with 100,000
   * messages dated ahead). A forgotten id dated above the floor can come
   * back; that takes 100,000 messages dated no earlier first.
   */
  remember(id: string, timestamp: number, cursor: number, oldestAccepted: number, now: number): number | null {
    if (timestamp <= this.floorTs) {
      const known = this.cursorOf(id)
      if (known !== null) return known
      this.checkFloor(timestamp)
    }
    // One statement for a new id (the usual case); a known one conflicts and inserts nothing.
    const inserted = this.sql
      .exec(
        'INSERT INTO topic_seen (id, ts, cursor) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING RETURNING id',
        id,
        timestamp,
        cursor,
      )
      .toArray().length
    if (inserted === 0) return this.cursorOf(id)
    this.count++
    if (this.count > this.maxIds) this.count -= this.deleteWhere('ts < ?', oldestAccepted)
    if (this.count <= this.maxIds) return null
    const excess = this.count - this.maxIds
    const newestDropped = this.sql
      .exec<{ ts: number }>('SELECT ts FROM topic_seen ORDER BY ts LIMIT 1 OFFSET ?', excess - 1)
      .one().ts
    this.floorTs = Math.max(this.floorTs, Math.min(newestDropped, now - Limits.maxClockSkewMs))
    this.sql.exec('INSERT OR REPLACE INTO topic_meta (key, value) VALUES (?, ?)', FLOOR_KEY, String(this.floorTs))
    // The oldest `excess` go; so do ties with the floor, which it refuses anyway.
    this.sql.exec('DELETE FROM topic_seen WHERE id IN (SELECT id FROM topic_seen ORDER BY ts LIMIT ?)', excess)
    this.count -= excess
    this.count -= this.deleteWhere('ts <= ?', this.floorTs)
    return null
  }

  /** Forgets ids dated before `oldestAccepted`: the room refuses them as stale anyway. */
  forgetOlderThan(oldestAccepted: number): void {
    this.count -= this.deleteWhere('ts < ?', oldestAccepted)
  }

  /** Deletes the rows matching `condition` and says how many went (one statement: usually none match). */
  private deleteWhere(condition: string, ts: number): number {
    return this.sql.exec(`DELETE FROM topic_seen WHERE ${condition} RETURNING id`, ts).toArray().length
  }

  private meta(key: string): string | null {
    const row = this.sql.exec<{ value: string }>('SELECT value FROM topic_meta WHERE key = ?', key).toArray()[0]
    return row?.value ?? null
  }
}
