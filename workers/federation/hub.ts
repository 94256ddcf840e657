/**
 * `FederationHub`, one Durable Object per instance: what federation must
 * remember across requests and decide in one place.
 *
 *   descriptors  discovery results by domain, each with an expiry, and
 *                failures (a domain that could not be discovered is not
 *                asked again before `failedUntil`): both bounded in time;
 *   nonces       the nonces of accepted signed requests, until they would
 *                be stale anyway, so a replayed request is refused (one
 *                object per sender);
 *   links        which peers federate which topic or document (and whether
 *                the peer is the document's home or a replica): kept by an
 *                object per resource, listed in full by the instance's hub;
 *   revocations  revocations already passed on (with their tokens), so one
 *                that comes back round from a peer is not sent out again,
 *                and a peer that lost its state is sent them all again;
 *   rate         when one caller asked for discoveries lately (one object
 *                per caller), so discovery cannot be used to make this
 *                instance fetch without bound.
 *
 * Nonces are remembered before a sender's descriptor is checked, and any
 * address may spend a budget, so the objects that hold them are named by
 * strangers: each sweeps itself with an alarm once its rows lapse, and one
 * left holding nothing deletes its storage, so they do not pile up.
 *
 * @example
 * ```ts
 * if (await linkPeer(env, 'topic', 'circle:messages:c1', 'b.example', 'peer')) { ... } // a new link
 * await linksOf(env, 'topic', 'circle:messages:c1') // [{ peer: 'b.example', role: 'peer' }]
 * ```
 */
import { DurableObject } from 'cloudflare:workers'
import { type ErrorCode, type InstanceDescriptor, isErrorCode, Limits } from '@vivim/shared'

export type LinkKind = 'topic' | 'doc'
/** A link's role: `home` is the peer a document is homed at, `replica` one that holds a copy, `peer` for topics. */
export type LinkRole = 'peer' | 'home' | 'replica'

export interface CachedDiscovery {
  readonly descriptor: InstanceDescriptor | null
  /** Why the last attempt failed, when `descriptor` is null. */
  readonly error: string | null
  /** The error code it failed with, so a cached failure is refused as the first one was. */
  readonly code: ErrorCode | null
}

/** How long a discovered descriptor is trusted before it is fetched again. */
const DESCRIPTOR_CACHE_MS = 5 * 60 * 1000

export class FederationHub extends DurableObject<Env> {
  private readonly sql: SqlStorage
  /** Set once a sweep deleted every table; the next use makes them again. */
  private emptied = false

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    this.sql = ctx.storage.sql
    this.createSchema()
  }

  /** The cached discovery of a domain while it is current, else null (ask again). */
  discovery(domain: string): CachedDiscovery | null {
    const row = this.db()
      .exec<{ json: string | null; error: string | null }>(
        'SELECT json, error FROM descriptors WHERE domain = ? AND until > ?',
        domain,
        Date.now(),
      )
      .toArray()[0]
    if (!row) return null
    if (row.json !== null) return { descriptor: JSON.parse(row.json) as InstanceDescriptor, error: null, code: null }
    const { code, message } = JSON.parse(row.error ?? '{}') as { code?: string; message?: string }
    return { descriptor: null, error: message ?? null, code: isErrorCode(code) ? code : null }
  }

  discovered(domain: string, descriptor: InstanceDescriptor): void {
    const until = Math.min(descriptor.expiresAt, Date.now() + DESCRIPTOR_CACHE_MS)
    this.db().exec(
      'INSERT OR REPLACE INTO descriptors VALUES (?, ?, NULL, ?)',
      domain,
      JSON.stringify(descriptor),
      until,
    )
  }

  failed(domain: string, code: ErrorCode, message: string): void {
    const until = Date.now() + Limits.federationFailureTtlMs
    const error = JSON.stringify({ code, message: message.slice(0, 500) })
    this.db().exec('INSERT OR REPLACE INTO descriptors VALUES (?, NULL, ?, ?)', domain, error, until)
  }

  /** Remembers a request's nonce; false if it was seen before (a replay). */
  async firstUse(keyid: string, nonce: string, until: number): Promise<boolean> {
    const now = Date.now()
    this.db().exec('DELETE FROM nonces WHERE until <= ?', now)
    const cursor = this.db().exec('INSERT OR IGNORE INTO nonces VALUES (?, ?, ?)', keyid, nonce, until)
    if (cursor.rowsWritten === 0) return false
    await this.sweepNoLaterThan(until)
    return true
  }

  /** Records a link here; true if it is new (use `linkPeer`, which keeps the instance's list too). */
  link(kind: LinkKind, name: string, peer: string, role: LinkRole): boolean {
    const cursor = this.db().exec('INSERT OR IGNORE INTO links VALUES (?, ?, ?, ?)', kind, name, peer, role)
    return cursor.rowsWritten > 0
  }

  /** The peers linked to a topic or document, with their roles. */
  links(kind: LinkKind, name: string): { peer: string; role: LinkRole }[] {
    return this.db()
      .exec<{ peer: string; role: LinkRole }>('SELECT peer, role FROM links WHERE kind = ? AND name = ?', kind, name)
      .toArray()
  }

  /** Every peer linked to anything: the instances that federate some resource with this one. */
  linkedPeers(): string[] {
    return this.db()
      .exec<{ peer: string }>('SELECT DISTINCT peer FROM links')
      .toArray()
      .map((r) => r.peer)
  }

  /** Whether a revocation was passed on already. */
  passedOn(id: string): boolean {
    return this.db().exec('SELECT 1 FROM passed_revocations WHERE id = ?', id).toArray().length > 0
  }

  /** Marks a revocation as passed on, once the outboxes hold it. */
  markPassed(id: string, revocation: Uint8Array, token: Uint8Array): void {
    this.db().exec('INSERT OR IGNORE INTO passed_revocations VALUES (?, ?, ?, ?)', id, revocation, token, Date.now())
  }

  /** Every revocation passed on, oldest first. */
  passedRevocations(): { revocation: Uint8Array; token: Uint8Array }[] {
    return this.db()
      .exec<{ revocation: ArrayBuffer; token: ArrayBuffer }>(
        'SELECT revocation, token FROM passed_revocations ORDER BY at',
      )
      .toArray()
      .map((r) => ({ revocation: new Uint8Array(r.revocation), token: new Uint8Array(r.token) }))
  }

  /** The links one peer has with this instance (on the instance's hub, which lists them all). */
  linksWith(peer: string): { kind: LinkKind; name: string; role: LinkRole }[] {
    return this.db()
      .exec<{ kind: LinkKind; name: string; role: LinkRole }>('SELECT kind, name, role FROM links WHERE peer = ?', peer)
      .toArray()
  }

  /**
   * Counts one request if fewer than `max` were counted in the last
   * `windowMs` (a sliding window, so no burst at a window's edge); false
   * when the caller is over the limit, and then nothing is counted.
   */
  async take(max: number, windowMs: number): Promise<boolean> {
    const now = Date.now()
    this.db().exec('DELETE FROM rate WHERE at <= ?', now - windowMs)
    if (this.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM rate').one().n >= max) return false
    this.db().exec('INSERT INTO rate VALUES (?)', now)
    await this.ctx.storage.put('rateWindowMs', windowMs)
    await this.sweepNoLaterThan(now + windowMs)
    return true
  }

  /** Drops lapsed nonces and rate entries; an object left with nothing at all deletes its storage. */
  override async alarm(): Promise<void> {
    const now = Date.now()
    const windowMs = (await this.ctx.storage.get<number>('rateWindowMs')) ?? 0
    this.db().exec('DELETE FROM nonces WHERE until <= ?', now)
    this.db().exec('DELETE FROM rate WHERE at <= ?', now - windowMs)
    const next = this.sql
      .exec<{ at: number | null }>(
        'SELECT MIN(t) AS at FROM (SELECT MIN(until) AS t FROM nonces UNION ALL SELECT MIN(at) + ? FROM rate)',
        windowMs,
      )
      .one().at
    if (next !== null) return this.ctx.storage.setAlarm(next)
    const held = this.sql
      .exec<{ n: number }>(
        `SELECT (SELECT COUNT(*) FROM descriptors) + (SELECT COUNT(*) FROM links)
          + (SELECT COUNT(*) FROM passed_revocations) AS n`,
      )
      .one().n
    if (held === 0) {
      await this.ctx.storage.deleteAll()
      this.emptied = true
    }
  }

  private createSchema(): void {
    this.sql.exec(`CREATE TABLE IF NOT EXISTS descriptors (domain TEXT PRIMARY KEY, json TEXT, error TEXT,
          until INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS nonces (keyid TEXT NOT NULL, nonce TEXT NOT NULL, until INTEGER NOT NULL,
          PRIMARY KEY (keyid, nonce));
        CREATE INDEX IF NOT EXISTS nonces_until ON nonces (until);
        CREATE TABLE IF NOT EXISTS links (kind TEXT NOT NULL, name TEXT NOT NULL, peer TEXT NOT NULL,
          role TEXT NOT NULL, PRIMARY KEY (kind, name, peer));
        CREATE TABLE IF NOT EXISTS passed_revocations (id TEXT PRIMARY KEY, revocation BLOB NOT NULL,
          token BLOB NOT NULL, at INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS rate (at INTEGER NOT NULL);`)
    this.emptied = false
  }

  /** The tables, made again if a sweep deleted them while this instance lived on. */
  private db(): SqlStorage {
    if (this.emptied) this.createSchema()
    return this.sql
  }

  private async sweepNoLaterThan(at: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm()
    if (current === null || current > at) await this.ctx.storage.setAlarm(at)
  }

  /** Links and cached discoveries, for the development status page. */
  summary(): { links: { kind: string; name: string; peer: string; role: string }[]; discovered: string[] } {
    return {
      links: this.db()
        .exec<{ kind: string; name: string; peer: string; role: string }>('SELECT * FROM links')
        .toArray(),
      discovered: this.db()
        .exec<{ domain: string }>('SELECT domain FROM descriptors WHERE json IS NOT NULL')
        .toArray()
        .map((r) => r.domain),
    }
  }
}

/** The instance's hub: discovery, nonces, revocations, and the list of every link (for status and revocations). */
export function federationHub(env: Env): DurableObjectStub<FederationHub> {
  return env.FEDERATION_HUB.getByName('hub')
}

/**
 * The hub that answers one topic's or document's links. Every stored
 * message asks for its topic's links, so each resource has its own object
 * and a busy topic never queues behind the rest of the instance.
 */
function linksHub(env: Env, kind: LinkKind, name: string): DurableObjectStub<FederationHub> {
  return env.FEDERATION_HUB.getByName(`${kind}:${name}`)
}

/** Links a peer to a topic or document; true if the link is new. */
export async function linkPeer(env: Env, kind: LinkKind, name: string, peer: string, role: LinkRole): Promise<boolean> {
  const isNew = await linksHub(env, kind, name).link(kind, name, peer, role)
  if (isNew) await federationHub(env).link(kind, name, peer, role)
  return isNew
}

/** The hub that remembers one sender's nonces: every inbound request asks it, so each sender has its own. */
export function nonceHub(env: Env, keyid: string): DurableObjectStub<FederationHub> {
  return env.FEDERATION_HUB.getByName(`nonces:${keyid}`)
}

/** The hub that counts one caller's discoveries (by its address, as the edge sees it). */
export function rateHub(env: Env, caller: string): DurableObjectStub<FederationHub> {
  return env.FEDERATION_HUB.getByName(`rate:${caller}`)
}

/** The peers linked to a topic or document. */
export function linksOf(env: Env, kind: LinkKind, name: string): Promise<{ peer: string; role: LinkRole }[]> {
  return linksHub(env, kind, name).links(kind, name)
}
