/**
 * A resource's subscriptions in its `WebhookResource` object's SQLite: one
 * row per subscription (at most `WEBHOOK_LIMITS.perResource`) with its
 * debounce, the changes seen since its last delivery and what that delivery
 * said (the state vector for `doc.changed`; for `circle.members`, the
 * members, a row each in `member_base`). Tables are made on the first
 * subscription, so the objects the edge only asks whether a resource has
 * any (every document that flushes, now and then) store nothing.
 *
 * When a subscription's delivery is due is `fireAt`: `debounceMs` after the
 * last change seen, or `maxWaitMs` after the first one not yet delivered,
 * whichever is sooner; or its catch-up check, or a retry after a failure.
 *
 * @example
 * ```ts
 * const store = new ResourceStore(ctx.storage.sql)
 * store.touch(Date.now(), ['b.example']) // a flush was seen
 * store.subs().map(fireAt)           // when each is due
 * ```
 */
import type { Members } from './payload.ts'
import type { WebhookEvent } from './subscription.ts'

export type SubRow = {
  readonly id: string
  readonly event: WebhookEvent
  readonly debounce: number
  readonly max_wait: number
  readonly created: number
  readonly first_at: number | null
  readonly last_at: number | null
  readonly updates: number
  readonly peers: string
  /** JSON: the DIDs whose writes the flushes since the last delivery held (null in a table made before). */
  readonly writers: string | null
  readonly check_at: number | null
  readonly retry_at: number | null
  readonly base: ArrayBuffer | null
}

/** When `row`'s next delivery is due (ms since the epoch), or null when nothing waits. */
export function fireAt(row: SubRow): number | null {
  const debounced =
    row.first_at === null ? null : Math.min((row.last_at ?? row.first_at) + row.debounce, row.first_at + row.max_wait)
  const due = [debounced, row.check_at].filter((t): t is number => t !== null)
  if (due.length === 0) return null
  return Math.max(Math.min(...due), row.retry_at ?? 0)
}

/** DIDs named per `doc.changed` (the first ones seen since the last delivery). */
export const MAX_WRITERS = 32

export class ResourceStore {
  private readonly sql: SqlStorage
  private made: boolean

  constructor(sql: SqlStorage) {
    this.sql = sql
    this.made = sql.exec(`SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'subs'`).toArray().length > 0
    // A table made before deliveries named their writers gets the column.
    const made = sql
      .exec<{ sql: string }>(`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'subs'`)
      .toArray()[0]
    if (made !== undefined && !made.sql.includes('writers')) {
      sql.exec(`ALTER TABLE subs ADD COLUMN writers TEXT NOT NULL DEFAULT '[]'`)
    }
  }

  make(): void {
    if (this.made) return
    this.sql.exec(`CREATE TABLE IF NOT EXISTS subs (id TEXT PRIMARY KEY, event TEXT NOT NULL, debounce INTEGER NOT NULL,
        max_wait INTEGER NOT NULL, created INTEGER NOT NULL, first_at INTEGER, last_at INTEGER,
        updates INTEGER NOT NULL DEFAULT 0, peers TEXT NOT NULL DEFAULT '[]', check_at INTEGER, retry_at INTEGER, base BLOB,
        writers TEXT NOT NULL DEFAULT '[]');
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS member_base (sub TEXT NOT NULL, did TEXT NOT NULL, role TEXT NOT NULL,
        PRIMARY KEY (sub, did));`)
    this.made = true
  }

  /** After the storage was deleted. */
  forget(): void {
    this.made = false
  }

  subs(): SubRow[] {
    if (!this.made) return []
    return this.sql.exec<SubRow>('SELECT * FROM subs ORDER BY created, id').toArray()
  }

  count(): number {
    if (!this.made) return 0
    return this.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM subs').one().n
  }

  /** The resource this object holds the subscriptions of. */
  resource(): string | null {
    if (!this.made) return null
    return this.sql.exec<{ value: string }>(`SELECT value FROM meta WHERE key = 'resource'`).toArray()[0]?.value ?? null
  }

  add(
    resource: string,
    sub: { id: string; event: WebhookEvent; debounceMs: number; maxWaitMs: number },
    checkAt: number | null,
  ): void {
    this.make()
    this.sql.exec(`INSERT OR REPLACE INTO meta (key, value) VALUES ('resource', ?)`, resource)
    this.sql.exec(
      'INSERT OR IGNORE INTO subs (id, event, debounce, max_wait, created, check_at) VALUES (?, ?, ?, ?, ?, ?)',
      sub.id,
      sub.event,
      sub.debounceMs,
      sub.maxWaitMs,
      Date.now(),
      checkAt,
    )
  }

  remove(id: string): void {
    if (!this.made) return
    this.sql.exec('DELETE FROM subs WHERE id = ?', id)
    this.sql.exec('DELETE FROM member_base WHERE sub = ?', id)
  }

  /**
   * A change was seen at `at` (from `from`, the federated instances that sent it, by `by`, the DIDs
   * that wrote it): every document subscription waits for it.
   */
  touch(at: number, from: readonly string[], by: readonly string[] = []): void {
    if (!this.made) return
    for (const row of this.subs()) {
      if (row.event === 'topic.message') continue
      const peers = JSON.parse(row.peers) as string[]
      for (const peer of from) if (!peers.includes(peer) && peers.length < 16) peers.push(peer)
      const writers = JSON.parse(row.writers ?? '[]') as string[]
      for (const did of by) if (!writers.includes(did) && writers.length < MAX_WRITERS) writers.push(did)
      this.sql.exec(
        'UPDATE subs SET first_at = COALESCE(first_at, ?), last_at = ?, updates = updates + 1, peers = ?, writers = ? WHERE id = ?',
        at,
        at,
        JSON.stringify(peers),
        JSON.stringify(writers),
        row.id,
      )
    }
  }

  /**
   * `row`'s delivery is made (or found empty): what it saw up to its last
   * change at `seenUpTo` is cleared, and changes seen since stay pending.
   */
  delivered(row: SubRow, seenUpTo: number | null, base: Uint8Array | null): void {
    if (!this.made) return
    this.sql.exec(
      `UPDATE subs SET first_at = CASE WHEN last_at > ? THEN last_at ELSE NULL END,
        updates = CASE WHEN last_at > ? THEN MAX(updates - ?, 1) ELSE 0 END,
        peers = CASE WHEN last_at > ? THEN peers ELSE '[]' END,
        writers = CASE WHEN last_at > ? THEN writers ELSE '[]' END, check_at = NULL, retry_at = NULL,
        base = COALESCE(?, base) WHERE id = ?`,
      seenUpTo ?? 0,
      seenUpTo ?? 0,
      row.updates,
      seenUpTo ?? 0,
      seenUpTo ?? 0,
      base,
      row.id,
    )
  }

  /** What `id`'s next `doc.changed` is compared against. */
  setBase(id: string, stateVector: Uint8Array): void {
    if (!this.made) return
    this.sql.exec('UPDATE subs SET base = ? WHERE id = ?', stateVector, id)
  }

  /** A failure (the room or the queue not reached): try `row` again at `at`. */
  retryAt(id: string, at: number): void {
    if (!this.made) return
    this.sql.exec('UPDATE subs SET retry_at = ? WHERE id = ?', at, id)
  }

  /** The members `sub`'s last `circle.members` delivery (or its creation) knew. */
  memberBase(sub: string): Members {
    const out: Members = {}
    if (!this.made) return out
    for (const row of this.sql.exec<{ did: string; role: Members[string] }>(
      'SELECT did, role FROM member_base WHERE sub = ?',
      sub,
    )) {
      out[row.did] = row.role
    }
    return out
  }

  /** Replaces `sub`'s members, writing only the rows that changed. */
  setMemberBase(sub: string, before: Members, now: Members): void {
    if (!this.made) return
    for (const did of Object.keys(before)) {
      if (!(did in now)) this.sql.exec('DELETE FROM member_base WHERE sub = ? AND did = ?', sub, did)
    }
    for (const [did, role] of Object.entries(now)) {
      if (before[did] !== role) {
        this.sql.exec('INSERT OR REPLACE INTO member_base (sub, did, role) VALUES (?, ?, ?)', sub, did, role)
      }
    }
  }
}
