/**
 * `IndexShard`, one of the `INDEX_SHARDS` Durable Objects that hold the
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
 * Only the Worker reaches a shard, after `validateRecord`, and shards
 * reach each other to move keys when the index grows (`shard-move.ts`);
 * the shard does not verify signatures again. While keys move, a write
 * names the key's old shard (`previous`): a shard that does not hold the
 * key yet takes it over from there first (`handOver`, then `release`), so
 * the write is judged against the key's latest record wherever it was.
 */
import { DurableObject } from 'cloudflare:workers'
import {
  bytesEqual,
  type ContentRecord,
  decodeRecord,
  logLine,
  type ProviderAnnouncement,
  type ProviderEntry,
  type Settled,
  selectRecord,
  settle,
} from '@vivim/shared'
import { KvReplica } from './kv-replica.ts'
import { ProviderStore } from './provider-store.ts'
import { indexText } from './search-text.ts'
import { type MoveOrder, ShardMove } from './shard-move.ts'
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

/** What a shard hands over of a key that moves: its latest record (if any) and its live providers. */
export interface HandedKey {
  readonly key: string
  readonly bytes: Uint8Array | null
  readonly providers: readonly ProviderEntry[]
}

export class IndexShard extends DurableObject<Env> {
  private readonly records: ShardStore
  private readonly providerStore: ProviderStore
  private readonly replica: KvReplica
  private readonly move: ShardMove
  /** Keys being taken over from their old shard: concurrent writes of one key share the one hand-over. */
  private readonly taking = new Map<string, Promise<void>>()

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    this.records = new ShardStore(ctx.storage)
    this.providerStore = new ProviderStore(ctx.storage)
    this.replica = new KvReplica(env.RECORDS, this.records)
    this.move = new ShardMove(ctx.storage)
    if (this.records.pendingKeys(1).length > 0) {
      ctx.blockConcurrencyWhile(() => this.alarmNoLaterThan(Date.now() + KV_RETRY_MS))
    }
  }

  /**
   * Keeps `bytes` (a validated record) if it beats the key's latest; answers
   * once KV has the winner. The stored record is decoded only when its
   * bytes differ, and KV is sent the bytes in hand, not read back.
   */
  async write(bytes: Uint8Array, previous: string | null = null): Promise<WriteResult> {
    const record = decodeRecord(bytes)
    // A key this shard gave up in a growth: its owner decides, and takes over what is left here.
    const owner = this.move.ownerOf(record.key)
    if (owner !== null) return await this.env.INDEX_SHARD.getByName(owner).write(bytes, this.move.name)
    if (previous !== null) await this.takeOver(record.key, previous)
    const result = this.keep(record, bytes)
    if (result.outcome !== 'stale') await this.replicate(record.key)
    return result
  }

  /** Stores `record` if it beats the key's latest; decodes the stored record only when the bytes differ. */
  private keep(record: ContentRecord, bytes: Uint8Array): WriteResult {
    const stored = this.records.get(record.key)
    if (stored && bytesEqual(stored.bytes, bytes)) return { outcome: 'unchanged', bytes }
    if (stored) {
      const current = decodeRecord(stored.bytes)
      if (selectRecord(current, record) === current) return { outcome: 'stale', bytes: stored.bytes }
    }
    this.records.put(record, bytes, indexText(record), stored?.id ?? null, this.replica.takeReplicated())
    this.replica.stored(record.key, { bytes, signature: record.signature })
    return { outcome: stored ? 'replaced' : 'created', bytes }
  }

  /** Takes `key` over from shard `previous` unless it is here already (once, however many writes wait). */
  private takeOver(key: string, previous: string): Promise<void> {
    if (this.records.get(key)) return Promise.resolve()
    let taking = this.taking.get(key)
    if (!taking) {
      taking = this.takeFrom(key, previous).finally(() => this.taking.delete(key))
      this.taking.set(key, taking)
    }
    return taking
  }

  private async takeFrom(key: string, previous: string): Promise<void> {
    const from = this.env.INDEX_SHARD.getByName(previous)
    const handed = await from.handOver(key)
    if (handed === null) return
    await this.adopt(handed)
    await from.release(key, handed.bytes)
  }

  /**
   * A moving key's record and providers, for its new shard (`adopt`). From
   * now on this shard never puts the key in KV (the new shard does); the key
   * stays here until `release`, so nothing is lost if the hand-over is cut short.
   */
  async handOver(key: string): Promise<HandedKey | null> {
    await this.replica.handOff(key)
    const bytes = this.records.get(key)?.bytes ?? null
    const providers = this.providerStore.list(key, Date.now())
    return bytes === null && providers.length === 0 ? null : { key, bytes, providers }
  }

  /** The key's new shard holds it: its record (if still `bytes`) and providers leave this shard. */
  release(key: string, bytes: Uint8Array | null): void {
    if (bytes !== null) this.records.remove(key, bytes)
    this.providerStore.remove(key)
  }

  /** Takes in a key handed over by its old shard: the record if it beats the latest here, and its providers. */
  async adopt(handed: HandedKey): Promise<void> {
    const now = Date.now()
    this.providerStore.adopt(handed.key, handed.providers, now)
    const expiry = this.providerStore.nextExpiry()
    if (expiry !== null) await this.alarmNoLaterThan(Math.max(expiry, now + PROVIDER_SWEEP_MS))
    if (handed.bytes === null) return
    // Kept (and put in KV from here, the old shard having given its put up) only if newer than what is here.
    if (this.keep(decodeRecord(handed.bytes), handed.bytes).outcome !== 'stale') await this.replicate(handed.key)
  }

  /**
   * The index grew and this is shard `order.index` of the old count: it
   * moves the keys it no longer owns, a batch per alarm (`shard-move.ts`).
   * Told again, it carries on; an order naming no shard of its count is refused.
   */
  moveOut(order: MoveOrder): Promise<Settled<void>> {
    return settle(async () => {
      if (this.move.start(order) || this.move.moving) await this.alarmNoLaterThan(Date.now())
    })
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
    if (await this.move.step((key, to) => this.moveKey(key, to))) next.push(now)
    const expiry = this.providerStore.nextExpiry()
    if (expiry !== null) next.push(Math.max(expiry, now + PROVIDER_SWEEP_MS))
    if (this.records.pendingKeys(1).length > 0) next.push(now + KV_RETRY_MS)
    if (next.length > 0) await this.ctx.storage.setAlarm(Math.min(...next))
  }

  /** Hands `key` to shard `to`; it leaves this shard once `to` has it. */
  private async moveKey(key: string, to: string): Promise<void> {
    const handed = await this.handOver(key)
    if (handed === null) return
    await this.env.INDEX_SHARD.getByName(to).adopt(handed)
    this.release(key, handed.bytes)
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
