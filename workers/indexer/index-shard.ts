/**
 * `IndexShard`, one of the `SHARD_COUNT` Durable Objects that hold the
 * indexer's state between them, each for the keys whose hash falls on it
 * (`shards.ts`): the authoritative latest record of each key (SQLite), its
 * search entries (`shard-store.ts`), its providers, and the record's copy in Workers KV.
 *
 * Every write of a key comes here, to one single-threaded object, because
 * KV alone cannot decide between two concurrent writes (no compare-and-set,
 * eventual consistency): the shard compares each write with the latest it
 * holds (`selectRecord`), refuses an older one as stale, and is the only
 * writer of the key in KV (`kv-replica.ts`), so KV never ends up with the
 * loser. Search shards by key too, so a record and its index entries change
 * in one SQLite transaction, and no object holds the whole index.
 *
 * Only the Worker reaches a shard, after `validateRecord`; the shard does
 * not verify signatures again.
 */
import { DurableObject } from 'cloudflare:workers'
import {
  bytesEqual,
  decodeRecord,
  logLine,
  type ProviderAnnouncement,
  type ProviderEntry,
  selectRecord,
} from '@vivim/shared'
import { KvReplica } from './kv-replica.ts'
import { ProviderStore } from './provider-store.ts'
import { indexText } from './search-text.ts'
import { type AuthorListing, type ShardHit, type ShardSearch, ShardStore } from './shard-store.ts'

/** How soon a failed KV put is retried. */
const KV_RETRY_MS = 30_000
/** Keys retried per alarm. */
const KV_RETRY_BATCH = 100
/** Expired providers are swept at most this often. */
const PROVIDER_SWEEP_MS = 10 * 60_000

export type WriteOutcome = 'created' | 'replaced' | 'unchanged' | 'stale'

export interface WriteResult {
  readonly outcome: WriteOutcome
  /** The key's latest record once the write is done: the one written, or the newer one that made it stale. */
  readonly bytes: Uint8Array
}

export class IndexShard extends DurableObject<Env> {
  private readonly records: ShardStore
  private readonly providerStore: ProviderStore
  private readonly replica: KvReplica

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    this.records = new ShardStore(ctx.storage)
    this.providerStore = new ProviderStore(ctx.storage)
    this.replica = new KvReplica(env.RECORDS, this.records)
    if (this.records.pendingKeys(1).length > 0) {
      ctx.blockConcurrencyWhile(() => this.alarmNoLaterThan(Date.now() + KV_RETRY_MS))
    }
  }

  /**
   * Keeps `bytes` (a validated record) if it beats the key's latest; answers
   * once KV has the winner. The stored record is decoded only when its
   * bytes differ, and KV is sent the bytes in hand, not read back.
   */
  async write(bytes: Uint8Array): Promise<WriteResult> {
    const record = decodeRecord(bytes)
    const stored = this.records.get(record.key)
    if (stored && bytesEqual(stored.bytes, bytes)) {
      await this.replicate(record.key)
      return { outcome: 'unchanged', bytes }
    }
    if (stored) {
      const current = decodeRecord(stored.bytes)
      if (selectRecord(current, record) === current) return { outcome: 'stale', bytes: stored.bytes }
    }
    this.records.put(record, bytes, indexText(record), stored?.id ?? null, this.replica.takeReplicated())
    this.replica.stored(record.key, { bytes, signature: record.signature })
    await this.replicate(record.key)
    return { outcome: stored ? 'replaced' : 'created', bytes }
  }

  search(query: ShardSearch): ShardHit[] {
    return this.records.search(query)
  }

  /** The one term the shards' tokenizer makes of `word`, or null (`ShardStore.termOf`). */
  termOf(word: string): string | null {
    return this.records.termOf(word)
  }

  listByAuthor(listing: AuthorListing): Uint8Array[] {
    return this.records.listByAuthor(listing)
  }

  async announce(key: string, announcement: ProviderAnnouncement): Promise<ProviderEntry> {
    const now = Date.now()
    const entry = this.providerStore.announce(key, announcement, now)
    await this.alarmNoLaterThan(Math.max(entry.expiresAt, now + PROVIDER_SWEEP_MS))
    return entry
  }

  providers(key: string): ProviderEntry[] {
    return this.providerStore.list(key, Date.now())
  }

  override async alarm(): Promise<void> {
    const now = Date.now()
    this.providerStore.sweep(now)
    const keys = this.records.pendingKeys(KV_RETRY_BATCH)
    await Promise.allSettled(keys.map((key) => this.replica.sync(key)))
    const next: number[] = []
    const expiry = this.providerStore.nextExpiry()
    if (expiry !== null) next.push(Math.max(expiry, now + PROVIDER_SWEEP_MS))
    if (this.records.pendingKeys(1).length > 0) next.push(now + KV_RETRY_MS)
    if (next.length > 0) await this.ctx.storage.setAlarm(Math.min(...next))
  }

  private async replicate(key: string): Promise<void> {
    try {
      await this.replica.sync(key)
    } catch (error) {
      // The record is stored here and marked for KV; the alarm retries, so the write still succeeds.
      logLine('error', 'KV put failed', { key, error })
      await this.alarmNoLaterThan(Date.now() + KV_RETRY_MS)
    }
  }

  private async alarmNoLaterThan(at: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm()
    if (current === null || current > at) await this.ctx.storage.setAlarm(at)
  }
}
