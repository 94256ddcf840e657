/**
 * Copies a shard's latest record for a key into Workers KV.
 *
 * KV has no compare-and-set and applies concurrent puts to one key in no
 * promised order, so two writers racing could leave the older record there
 * for good. Every write of a key goes through the one shard Durable Object
 * that owns the key's hash, and here at most one KV put per key is in flight:
 * a put always sends the shard's latest record as of when it starts, and
 * writes that arrive while it runs share one follow-up put of whatever is
 * latest by then. So the last put to land is always of the latest record,
 * and a burst of writes to one key makes at most two puts, which also keeps
 * under KV's limit of one write a second per key. Which record KV holds is
 * recorded in the shard's SQLite (`kv_pending`), so a put lost to a failure
 * or an eviction is retried from the shard's alarm. The record a write has
 * just stored is handed over in memory (`stored`), so its put does not read
 * it back from SQLite; a retry after a failure or an eviction reads it.
 *
 * Clearing a key's mark once its put has landed is deferred and batched: the
 * marks KV has caught up with are handed to the shard's next write
 * (`takeReplicated`), which clears them in its own transaction, or cleared
 * together by a timer when no write comes. A mark cleared late, or never
 * (an eviction in between), only makes the alarm put the same latest record
 * again, which changes nothing in KV; a mark is never cleared early, because
 * a clear names the signature that was put and a newer record's mark has
 * another.
 */
import type { PendingRecord, ShardStore } from './shard-store.ts'

/** How long a landed put's mark may wait for a write to clear it with, before a timer clears it alone. */
const CLEAR_DELAY_MS = 1_000

export class KvReplica {
  private readonly running = new Map<string, Promise<void>>()
  private readonly queued = new Map<string, Promise<void>>()
  /** The latest record of keys written since their last put, as the write stored it. */
  private readonly latest = new Map<string, PendingRecord>()
  /** Keys whose put has landed, with the signature put, whose mark is not cleared yet. */
  private landed = new Map<string, Uint8Array>()
  private clearTimer: ReturnType<typeof setTimeout> | null = null
  private readonly kv: KVNamespace
  private readonly store: ShardStore

  constructor(kv: KVNamespace, store: ShardStore) {
    this.kv = kv
    this.store = store
  }

  /**
   * Resolves once KV holds the shard's latest record for `key` (or a newer
   * one); rejects if the put failed, leaving the key marked for a retry.
   *
   * @example
   * ```ts
   * store.put(record, bytes, text, null)
   * replica.stored(record.key, { bytes, signature: record.signature })
   * await replica.sync(record.key)
   * ```
   */
  sync(key: string): Promise<void> {
    const waiting = this.queued.get(key)
    if (waiting) return waiting
    const before = this.running.get(key) ?? Promise.resolve()
    const next: Promise<void> = before
      .catch(() => {})
      .then(async () => {
        this.queued.delete(key)
        this.running.set(key, next)
        try {
          await this.putLatest(key)
        } finally {
          if (this.running.get(key) === next) this.running.delete(key)
        }
      })
    this.queued.set(key, next)
    return next
  }

  /** Notes the record just stored (and marked pending) as the key's latest, for the next put. */
  stored(key: string, record: PendingRecord): void {
    this.latest.set(key, record)
  }

  /**
   * Waits for any put of `key` in flight, then gives the key up: its mark
   * is dropped and no put of it follows, since the key moved to another
   * shard (`shard-move.ts`), which puts it in KV from now on. So no put of
   * this shard can land after one of the key's new shard.
   */
  async handOff(key: string): Promise<void> {
    this.latest.delete(key)
    await (this.queued.get(key) ?? this.running.get(key))?.catch(() => {})
    this.latest.delete(key)
    this.store.dropPending(key)
  }

  /**
   * The marks KV has caught up with, for the caller's transaction to clear
   * (`ShardStore.put`); they are no longer this replica's to clear.
   */
  takeReplicated(): ReadonlyMap<string, Uint8Array> {
    const taken = this.landed
    this.landed = new Map()
    return taken
  }

  private async putLatest(key: string): Promise<void> {
    const held = this.latest.get(key)
    this.latest.delete(key)
    const latest = held ?? this.store.pending(key)
    if (!latest) return
    await this.kv.put(key, latest.bytes)
    this.landed.set(key, latest.signature)
    this.clearSoon()
  }

  private clearSoon(): void {
    if (this.clearTimer !== null) return
    this.clearTimer = setTimeout(() => {
      this.clearTimer = null
      const taken = this.takeReplicated()
      if (taken.size > 0) this.store.replicated(taken)
    }, CLEAR_DELAY_MS)
  }
}
