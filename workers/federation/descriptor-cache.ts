/**
 * Discovery's cache, one object per domain (`FederationDescriptors`): the
 * domain's validated descriptor until it expires or for 5 minutes, or why it
 * could not be discovered, for `Limits.federationFailureTtlMs`, so a busy
 * inbox does not fetch a descriptor per request and a dead domain is not
 * asked on every one.
 *
 * A class of its own, named by the domain, rather than rows in one object
 * for the instance: every signed request reads its sender's descriptor, so
 * one object for all of them would queue every peer's requests behind each
 * other. Any caller can make this instance discover a domain (from its own
 * budget), so the objects sweep themselves once their entry lapses.
 *
 * @example
 * ```ts
 * const cache = descriptorCache(env, 'b.example')
 * await cache.discovery('b.example') // null: ask again
 * await cache.discovered('b.example', descriptor)
 * ```
 */
import { type ErrorCode, type InstanceDescriptor, isErrorCode, Limits } from '@vivim/shared'
import { type LapsingStore, SelfSweepingObject, sweepLapsed } from './role-storage.ts'

export interface CachedDiscovery {
  readonly descriptor: InstanceDescriptor | null
  /** Why the last attempt failed, when `descriptor` is null. */
  readonly error: string | null
  /** The error code it failed with, so a cached failure is refused as the first one was. */
  readonly code: ErrorCode | null
}

/** How long a discovered descriptor is trusted before it is fetched again. */
const DESCRIPTOR_CACHE_MS = 5 * 60 * 1000

/** The `descriptors` table: a domain's descriptor (JSON) or its failure (JSON `{ code, message }`), until `until`. */
export class DescriptorCache implements LapsingStore {
  private readonly sql: SqlStorage

  constructor(sql: SqlStorage) {
    this.sql = sql
    sql.exec(`CREATE TABLE IF NOT EXISTS descriptors (domain TEXT PRIMARY KEY, json TEXT, error TEXT,
        until INTEGER NOT NULL)`)
  }

  /** The domain's entry while it is current, else null. */
  get(domain: string, now: number): CachedDiscovery | null {
    const row = this.sql
      .exec<{ json: string | null; error: string | null }>(
        'SELECT json, error FROM descriptors WHERE domain = ? AND until > ?',
        domain,
        now,
      )
      .toArray()[0]
    if (!row) return null
    if (row.json !== null) return { descriptor: JSON.parse(row.json) as InstanceDescriptor, error: null, code: null }
    const { code, message } = JSON.parse(row.error ?? '{}') as { code?: string; message?: string }
    return { descriptor: null, error: message ?? null, code: isErrorCode(code) ? code : null }
  }

  /** Keeps a descriptor; returns when it lapses. */
  discovered(domain: string, descriptor: InstanceDescriptor, now: number): number {
    const until = Math.min(descriptor.expiresAt, now + DESCRIPTOR_CACHE_MS)
    const json = JSON.stringify(descriptor)
    this.sql.exec('INSERT OR REPLACE INTO descriptors VALUES (?, ?, NULL, ?)', domain, json, until)
    return until
  }

  /** Keeps a failure; returns when it lapses. */
  failed(domain: string, code: ErrorCode, message: string, now: number): number {
    const until = now + Limits.federationFailureTtlMs
    const error = JSON.stringify({ code, message: message.slice(0, 500) })
    this.sql.exec('INSERT OR REPLACE INTO descriptors VALUES (?, NULL, ?, ?)', domain, error, until)
    return until
  }

  sweep(now: number): number | null {
    return sweepLapsed(this.sql, 'descriptors', now)
  }
}

/** One domain's cached discovery. */
export class FederationDescriptors extends SelfSweepingObject<DescriptorCache> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env, 'descriptors', (sql) => new DescriptorCache(sql))
  }

  /** The cached discovery of a domain while it is current, else null (ask again). */
  discovery(domain: string): CachedDiscovery | null {
    return this.store.reading?.get(domain, Date.now()) ?? null
  }

  async discovered(domain: string, descriptor: InstanceDescriptor): Promise<void> {
    await this.sweepNoLaterThan(this.store.writing().discovered(domain, descriptor, Date.now()))
  }

  async failed(domain: string, code: ErrorCode, message: string): Promise<void> {
    await this.sweepNoLaterThan(this.store.writing().failed(domain, code, message, Date.now()))
  }
}

/** The object that caches one domain's discovery (the domain as `parseDomain` gives it). */
export function descriptorCache(env: Env, domain: string): DurableObjectStub<FederationDescriptors> {
  return env.FEDERATION_DESCRIPTORS.getByName(domain)
}
