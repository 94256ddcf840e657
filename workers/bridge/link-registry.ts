/**
 * `BridgeRegistry`, the list of the bridge links live at this edge: the
 * names of their `BridgeLink` objects (`bridge-link.ts`), so a record
 * stored here can reach every linked bridge through that bridge's own
 * object. One object, named `links`, for the deployment; it is touched when
 * a bridge links or leaves (a bridge holds one long-lived socket, and an
 * edge has a handful), never per record write, find or frame.
 *
 * It also bounds the links: at most `MAX_LINKS` in all (each record write
 * fans out to every one) and `Limits.maxSocketsPerIdentity` per bridge DID,
 * the cap the one socket-holding object used to apply. A link whose object
 * lost its socket without a close (a deploy) is forgotten when a caller
 * finds it gone, or when a new link would pass a bound and the registry
 * asks the older links whether they are still there.
 *
 * Readers do not ask it: each change of the list is published to KV
 * (`LINKS_KV_KEY` in `RECORDS`), which every isolate reads at most once per
 * `LINKS_TTL_MS` (`live-links.ts`). KV is made for many readers of one key;
 * the registry is asked only when a bridge links or leaves, or, once, when
 * the key was never written.
 *
 * State: one row per live link (name, the DID that linked it, when); at
 * most `MAX_LINKS` rows.
 */
import { DurableObject } from 'cloudflare:workers'
import { ErrorCode, Limits, type Settled, settle, VivimError } from '@vivim/shared'

/** Most bridges linked to one edge at once: every record stored here is pushed to each. */
export const MAX_LINKS = 32
/** A link younger than this is not asked whether it is gone: it may still be accepting its socket. */
const PURGE_AFTER_MS = 60_000

/** The KV key (in `RECORDS`, beside the records' `/vivim/` keys) the live links' names are published at. */
export const LINKS_KV_KEY = 'edge:bridge-links'

/** The registry of this deployment. */
export function registryOf(env: Pick<Env, 'BRIDGE_REGISTRY'>): DurableObjectStub<BridgeRegistry> {
  return env.BRIDGE_REGISTRY.getByName('links')
}

export class BridgeRegistry extends DurableObject<Env> {
  private readonly sql: SqlStorage

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    this.sql = ctx.storage.sql
    this.sql.exec(`CREATE TABLE IF NOT EXISTS links (
      name TEXT PRIMARY KEY, identity TEXT, at INTEGER NOT NULL)`)
  }

  /** Adds link `name`, linked by `identity` (null in development mode); refused past a bound. */
  add(name: string, identity: string | null): Promise<Settled<void>> {
    return settle(async () => {
      if (this.full(identity)) await this.purge()
      if (this.count(null) >= MAX_LINKS) {
        throw new VivimError(ErrorCode.RateLimited, `at most ${MAX_LINKS} bridges may link to one edge`)
      }
      if (identity !== null && this.count(identity) >= Limits.maxSocketsPerIdentity) {
        throw new VivimError(
          ErrorCode.RateLimited,
          `one identity may hold at most ${Limits.maxSocketsPerIdentity} bridge links`,
        )
      }
      this.sql.exec('INSERT OR IGNORE INTO links (name, identity, at) VALUES (?, ?, ?)', name, identity, Date.now())
      await this.publish()
    })
  }

  /** Forgets link `name` (its bridge left); forgetting an unknown link does nothing. */
  async remove(name: string): Promise<void> {
    this.forget(name)
    await this.publish()
  }

  /** The names of the live links, published to KV as well (a reader found the key unwritten). */
  async list(): Promise<string[]> {
    await this.publish()
    return this.names()
  }

  private names(): string[] {
    return this.sql
      .exec<{ name: string }>('SELECT name FROM links ORDER BY at, name')
      .toArray()
      .map((r) => r.name)
  }

  private forget(name: string): void {
    this.sql.exec('DELETE FROM links WHERE name = ?', name)
  }

  /** Writes the live links' names where readers look for them. */
  private async publish(): Promise<void> {
    await this.env.RECORDS.put(LINKS_KV_KEY, JSON.stringify(this.names()))
  }

  private count(identity: string | null): number {
    const where = identity === null ? '' : 'WHERE identity = ?'
    const bindings = identity === null ? [] : [identity]
    return this.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM links ${where}`, ...bindings).one().n
  }

  private full(identity: string | null): boolean {
    return this.count(null) >= MAX_LINKS || (identity !== null && this.count(identity) >= Limits.maxSocketsPerIdentity)
  }

  /** Forgets the older links whose objects say their bridge has left. */
  private async purge(): Promise<void> {
    const old = this.sql
      .exec<{ name: string }>('SELECT name FROM links WHERE at < ?', Date.now() - PURGE_AFTER_MS)
      .toArray()
    await Promise.all(
      old.map(async ({ name }) => {
        const answer = await this.env.BRIDGE_LINK.getByName(name)
          .peer()
          .catch(() => null)
        if (answer !== null && !answer.linked) this.forget(name)
      }),
    )
    await this.publish()
  }
}
