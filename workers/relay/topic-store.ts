/**
 * A topic room's SQLite: the bounded history of stored messages, keyed by a
 * cursor that rises by one per message and by message id. History keeps the
 * last `maxMessages` messages and nothing older than `maxAgeMs`; the latest
 * cursor is kept apart so it survives the history emptying. Duplicates are
 * dropped by the ids of `topic-seen-ids.ts`, which outlive the history.
 *
 * Each SQLite statement costs the room far more than its work (about 0.1-0.2
 * ms each under the local runtime), so a new message costs two: its id and
 * its row. What falls out of the window is deleted by `prune`, which the
 * room runs once per flush, not per message; until then the history holds a
 * few messages more than the window. The latest cursor is written there too:
 * on start it is the larger of the stored one and the newest row's, so a
 * message stored before a crash is never given a cursor again.
 */
import { type EncodedMessage, Limits } from '@vivim/shared'
import { TopicSeenIds } from './topic-seen-ids.ts'

/** Most messages in one `page`: a page is bounded by bytes, and by this too. */
const PAGE_ROWS = 2_000

export interface TopicRetention {
  readonly maxMessages: number
  readonly maxAgeMs: number
}

export interface StoredMessage {
  readonly cursor: number
  readonly id: string
  readonly envelope: Uint8Array
}

export interface AppendResult {
  readonly cursor: number
  readonly duplicate: boolean
}

/** A page of history (`TopicStore.page`). */
export interface HistoryPage {
  /** The oldest cursor held, or the latest plus one when the history is empty. */
  readonly oldest: number
  readonly messages: EncodedMessage[]
  /** Whether messages up to the bound asked for remain after this page. */
  readonly more: boolean
}

/**
 * Where a subscriber's replay starts: after cursor `from`, up to `latest`; `gap` when its resume
 * point is gone (then `from` is just before the oldest message held).
 */
export interface ReplayPlan {
  readonly from: number
  readonly latest: number
  readonly gap: { readonly from: number; readonly oldest: number } | null
}

export class TopicStore {
  private readonly sql: SqlStorage
  private latestCursor: number
  private readonly seen: TopicSeenIds
  /** The bound topic, once read: it never changes, and every publish asks for it. */
  private boundTopic: string | null = null
  /** Whether messages were stored since the last `prune`. */
  private unpruned = true

  /** `maxSeenIds` bounds the remembered message ids (`Limits.maxTopicSeenIds`; smaller in tests). */
  constructor(storage: DurableObjectStorage, maxSeenIds: number = Limits.maxTopicSeenIds) {
    this.sql = storage.sql
    this.sql.exec(`CREATE TABLE IF NOT EXISTS topic_messages (
        cursor INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, ts INTEGER NOT NULL, data BLOB NOT NULL);
      CREATE INDEX IF NOT EXISTS topic_messages_ts ON topic_messages (ts);
      CREATE TABLE IF NOT EXISTS topic_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);`)
    const newest = this.sql.exec<{ c: number | null }>('SELECT MAX(cursor) AS c FROM topic_messages').one().c
    this.latestCursor = Math.max(Number(this.meta('latest') ?? 0), newest ?? 0)
    this.seen = new TopicSeenIds(this.sql, maxSeenIds)
  }

  /** The topic bound by `bindTopic`, or null before the first request. */
  topic(): string | null {
    this.boundTopic ??= this.meta('topic')
    return this.boundTopic
  }

  get latest(): number {
    return this.latestCursor
  }

  /** The topic this room serves; set on first use and never changed. */
  bindTopic(topic: string): string {
    if (this.topic() === null) this.sql.exec("INSERT OR IGNORE INTO topic_meta (key, value) VALUES ('topic', ?)", topic)
    this.boundTopic = this.meta('topic')
    return this.boundTopic as string
  }

  /**
   * Stores a message unless its id is known (then answers the cursor it was
   * stored at, even if it left the history). Throws `stale_record` for a
   * timestamp at or below the seen-id floor. `prune` later trims the window.
   */
  append(id: string, timestamp: number, envelope: Uint8Array, retention: TopicRetention, now: number): AppendResult {
    // The seen ids cover the history until they first overflow (a floor is set): only then can a
    // stored message be missing from them, so only then is the history asked too.
    const inHistory = this.seen.floor >= 0 ? this.cursorOf(id) : null
    if (inHistory !== null) return { cursor: inHistory, duplicate: true }
    const cursor = this.latestCursor + 1
    const known = this.seen.remember(id, timestamp, cursor, now - retention.maxAgeMs, now)
    if (known !== null) return { cursor: known, duplicate: true }
    this.sql.exec(
      'INSERT INTO topic_messages (cursor, id, ts, data) VALUES (?, ?, ?, ?)',
      cursor,
      id,
      timestamp,
      envelope,
    )
    this.latestCursor = cursor
    this.unpruned = true
    return { cursor, duplicate: false }
  }

  /** Deletes what fell out of the window since the last prune, and stores the latest cursor. */
  prune(retention: TopicRetention, now: number): void {
    if (!this.unpruned) return
    this.unpruned = false
    this.sql.exec("INSERT OR REPLACE INTO topic_meta (key, value) VALUES ('latest', ?)", String(this.latestCursor))
    // Two statements, each on its own index: with `OR` SQLite scans the whole history.
    this.sql.exec('DELETE FROM topic_messages WHERE cursor <= ?', this.latestCursor - retention.maxMessages)
    this.sql.exec('DELETE FROM topic_messages WHERE ts < ?', now - retention.maxAgeMs)
    this.seen.forgetOlderThan(now - retention.maxAgeMs)
  }

  cursorOf(id: string): number | null {
    const row = this.sql.exec<{ cursor: number }>('SELECT cursor FROM topic_messages WHERE id = ?', id).toArray()[0]
    return row?.cursor ?? null
  }

  /** The oldest cursor still held, or null when the history is empty. */
  oldest(): number | null {
    return this.sql.exec<{ c: number | null }>('SELECT MIN(cursor) AS c FROM topic_messages').one().c
  }

  /**
   * Where the replay of a subscriber resuming at `resume` (`cursor:<n>`, `after:<message id>`,
   * or null for none) starts. A point the history no longer holds (a cursor below it or above
   * the latest, an unknown id) is a gap, and the replay is the whole history.
   */
  replayPlan(resume: string | null): ReplayPlan {
    const latest = this.latestCursor
    let from = latest
    if (resume?.startsWith('cursor:')) from = Number(resume.slice('cursor:'.length))
    if (resume?.startsWith('after:')) from = this.cursorOf(resume.slice('after:'.length)) ?? -1
    const oldest = this.oldest() ?? latest + 1
    const lost = from === -1 || from > latest || (from !== 0 && from < oldest - 1)
    if (!lost) return { from, latest, gap: null }
    return { from: oldest - 1, latest, gap: { from: Math.max(from, 0), oldest } }
  }

  /**
   * Messages after `after` up to `upTo`, in order, as many as fit `maxBytes` of envelopes (at
   * least one): a page of history that another object reads over RPC.
   */
  page(after: number, upTo: number, maxBytes: number): HistoryPage {
    const messages: EncodedMessage[] = []
    let bytes = 0
    let more = false
    const rows = this.sql.exec<{ cursor: number; data: ArrayBuffer }>(
      'SELECT cursor, data FROM topic_messages WHERE cursor > ? AND cursor <= ? ORDER BY cursor LIMIT ?',
      after,
      upTo,
      PAGE_ROWS + 1,
    )
    for (const row of rows) {
      if (messages.length === PAGE_ROWS || (messages.length > 0 && bytes + row.data.byteLength > maxBytes)) {
        more = true
        break
      }
      messages.push({ c: row.cursor, envelope: new Uint8Array(row.data) })
      bytes += row.data.byteLength
    }
    return { oldest: this.oldest() ?? this.latestCursor + 1, messages, more }
  }

  /** Messages after `cursor`, in order. */
  after(cursor: number): StoredMessage[] {
    return this.sql
      .exec<{ cursor: number; id: string; data: ArrayBuffer }>(
        'SELECT cursor, id, data FROM topic_messages WHERE cursor > ? ORDER BY cursor',
        cursor,
      )
      .toArray()
      .map((r) => ({ cursor: r.cursor, id: r.id, envelope: new Uint8Array(r.data) }))
  }

  private meta(key: string): string | null {
    const row = this.sql.exec<{ value: string }>('SELECT value FROM topic_meta WHERE key = ?', key).toArray()[0]
    return row?.value ?? null
  }
}

/** The history a topic room keeps, from `TOPIC_HISTORY_MESSAGES` and `TOPIC_HISTORY_SECONDS`. */
export function retentionOf(env: Env): TopicRetention {
  const messages = Number(env.TOPIC_HISTORY_MESSAGES)
  const seconds = Number(env.TOPIC_HISTORY_SECONDS)
  return {
    maxMessages: Math.min(
      Number.isSafeInteger(messages) && messages > 0 ? messages : 1000,
      Limits.maxTopicHistoryMessages,
    ),
    maxAgeMs: (Number.isSafeInteger(seconds) && seconds > 0 ? seconds : 86_400) * 1000,
  }
}
