/**
 * A subscription's deliveries in its queue object's SQLite: the ones still
 * owed (at most `WEBHOOK_LIMITS.queued`) and the last finished ones (at most
 * `WEBHOOK_LIMITS.history`), one row each with the body as it is sent, its
 * attempts, when the next is due and why the last failed. Deliveries are
 * numbered per subscription (`seq`), and an event refused because the queue
 * is full or suspended still takes a number, so a receiver sees the gap.
 *
 * @example
 * ```ts
 * const store = new QueueStore(ctx.storage.sql)
 * const seq = store.nextSeq()
 * store.add({ seq, id, event: 'topic.message', body, createdAt: Date.now() })
 * store.head() // the oldest delivery owed
 * ```
 */

/** A delivery as the owner lists it (`@vivim/shared`'s HTTP shapes). */
import type { WebhookDelivery as DeliveryInfo, DeliveryStatus } from '@vivim/shared'
import { WEBHOOK_LIMITS, type WebhookEvent } from './subscription.ts'

export type { DeliveryInfo, DeliveryStatus }

/** A delivery owed, with its body. */
export interface OwedDelivery {
  readonly seq: number
  readonly id: string
  readonly body: string
  readonly attempts: number
  readonly nextAt: number
}

type Row = {
  seq: number
  id: string
  event: WebhookEvent
  state: string
  attempts: number
  created: number
  next_at: number
  finished: number | null
  last_status: number | null
  last_error: string | null
}

export class QueueStore {
  private readonly sql: SqlStorage
  /** Whether the tables exist: made by the first write, so an object only asked about (any id) stores nothing. */
  private made: boolean

  constructor(sql: SqlStorage) {
    this.sql = sql
    this.made = sql.exec(`SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'meta'`).toArray().length > 0
  }

  /** Creates the tables before the first write. */
  make(): void {
    if (this.made) return
    this.sql.exec(`CREATE TABLE IF NOT EXISTS deliveries (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, event TEXT NOT NULL,
        body TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, created INTEGER NOT NULL,
        next_at INTEGER NOT NULL, finished INTEGER, last_status INTEGER, last_error TEXT);
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);`)
    this.made = true
  }

  /** After the object's storage was deleted: nothing is held any more. */
  forget(): void {
    this.made = false
  }

  /** Takes the next delivery number (consecutive from 1). */
  nextSeq(): number {
    const seq = Number(this.meta('seq') ?? 0) + 1
    this.setMeta('seq', String(seq))
    return seq
  }

  add(delivery: { seq: number; id: string; event: WebhookEvent; body: string; createdAt: number }): void {
    this.make()
    this.sql.exec(
      `INSERT INTO deliveries (seq, id, event, body, state, created, next_at) VALUES (?, ?, ?, ?, 'owed', ?, ?)`,
      delivery.seq,
      delivery.id,
      delivery.event,
      delivery.body,
      delivery.createdAt,
      delivery.createdAt,
    )
  }

  /** Deliveries still owed. */
  owed(): number {
    if (!this.made) return 0
    return this.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM deliveries WHERE state = 'owed'`).one().n
  }

  /** The oldest delivery owed: they go in order. */
  head(): OwedDelivery | null {
    if (!this.made) return null
    const row = this.sql
      .exec<{ seq: number; id: string; body: string; attempts: number; next_at: number }>(
        `SELECT seq, id, body, attempts, next_at FROM deliveries WHERE state = 'owed' ORDER BY seq LIMIT 1`,
      )
      .toArray()[0]
    return row ? { seq: row.seq, id: row.id, body: row.body, attempts: row.attempts, nextAt: row.next_at } : null
  }

  /** A failed attempt that will be retried at `nextAt`. */
  retryAt(seq: number, nextAt: number, status: number | null, error: string | null): void {
    this.sql.exec(
      'UPDATE deliveries SET attempts = attempts + 1, next_at = ?, last_status = ?, last_error = ? WHERE seq = ?',
      nextAt,
      status,
      error,
      seq,
    )
  }

  /** Delivered, or given up; the body is dropped and the history trimmed. */
  finish(seq: number, state: 'delivered' | 'failed', at: number, status: number | null, error: string | null): void {
    this.sql.exec(
      `UPDATE deliveries SET state = ?, attempts = attempts + 1, finished = ?, body = '', last_status = ?,
        last_error = ? WHERE seq = ?`,
      state,
      at,
      status,
      error,
      seq,
    )
    this.sql.exec(
      `DELETE FROM deliveries WHERE state != 'owed' AND seq NOT IN
        (SELECT seq FROM deliveries WHERE state != 'owed' ORDER BY seq DESC LIMIT ?)`,
      WEBHOOK_LIMITS.history,
    )
  }

  /** Gives up everything owed (the subscription was suspended). */
  failAll(at: number, error: string): void {
    for (const { seq } of this.sql.exec<{ seq: number }>(`SELECT seq FROM deliveries WHERE state = 'owed'`).toArray()) {
      this.sql.exec(
        `UPDATE deliveries SET state = 'failed', finished = ?, body = '', last_error = ? WHERE seq = ?`,
        at,
        error,
        seq,
      )
    }
  }

  /** Owed deliveries, then finished ones, newest first. */
  list(): DeliveryInfo[] {
    if (!this.made) return []
    const rows = this.sql
      .exec<Row>(
        `SELECT seq, id, event, state, attempts, created, next_at, finished, last_status, last_error
          FROM deliveries ORDER BY seq DESC`,
      )
      .toArray()
    return rows.map((row) => ({
      id: row.id,
      seq: row.seq,
      event: row.event,
      status: row.state === 'owed' ? (row.attempts > 0 ? 'retrying' : 'pending') : (row.state as DeliveryStatus),
      attempts: row.attempts,
      createdAt: row.created,
      nextAttemptAt: row.state === 'owed' ? row.next_at : null,
      finishedAt: row.finished,
      lastStatus: row.last_status,
      lastError: row.last_error,
    }))
  }

  meta(key: string): string | null {
    if (!this.made) return null
    return this.sql.exec<{ value: string }>('SELECT value FROM meta WHERE key = ?', key).toArray()[0]?.value ?? null
  }

  setMeta(key: string, value: string): void {
    this.make()
    this.sql.exec('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)', key, value)
  }

  /** Adds `by` to a counter kept in `meta`; its new value. */
  count(key: string, by = 1): number {
    const value = Number(this.meta(key) ?? 0) + by
    this.setMeta(key, String(value))
    return value
  }
}
