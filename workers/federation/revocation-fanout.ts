/**
 * Passing revocations on to peers without one object for the instance on
 * the revocation path. Revocations are spread over `REVOCATION_SHARDS`
 * `FederationHub` objects named `revocations:<i>` by their id; each shard
 * keeps its own copy of the instance's linked peers and the revocations that
 * fell to it (`passed_revocations`, and `pending_revocations` while the
 * outboxes have not all taken one yet). A revocation asks only its shard.
 *
 * A peer new to the instance (its first link, recorded by the instance's
 * hub) is added to every shard, and each answers with the revocations it
 * holds, pending ones included, which go to that peer. A shard is one
 * object, so for each revocation either the peer was added first (the
 * revocation goes to it) or the revocation was stored first (the peer's
 * catch-up carries it): none is missed, some may travel twice (a receiver
 * stores a revocation once).
 *
 * State: per shard, one row per linked peer and per revocation it holds;
 * revocations are kept for as long as the instance is.
 *
 * @example
 * ```ts
 * const peers = await revocationShard(env, id).revocationOut(id, revocation, token) // null: passed on already
 * ```
 */
import { type FederationHub, federationHub } from './hub.ts'

/** How many objects the instance's revocations and linked peers are spread over. */
export const REVOCATION_SHARDS = 16

/** A revocation and its token, as they travel. */
export interface HeldRevocation {
  readonly revocation: Uint8Array
  readonly token: Uint8Array
}

function shardOf(id: string): number {
  let h = 0
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) >>> 0
  return h % REVOCATION_SHARDS
}

/** The shard that holds revocation `id`. */
export function revocationShard(env: Env, id: string): DurableObjectStub<FederationHub> {
  return env.FEDERATION_HUB.getByName(`revocations:${shardOf(id)}`)
}

/** Every shard, for what concerns them all (a new peer, recovery). */
export function revocationShards(env: Env): DurableObjectStub<FederationHub>[] {
  return Array.from({ length: REVOCATION_SHARDS }, (_, i) => env.FEDERATION_HUB.getByName(`revocations:${i}`))
}

/** Whether revocation `id` was passed on already. */
export function passedOn(env: Env, id: string): Promise<boolean> {
  return revocationShard(env, id).passedOn(id)
}

/** The instance's hub, which held the revocations passed on before they had shards. */
const legacyHub = federationHub

/** Every revocation held, passed on or pending, shard by shard (oldest first within each). */
export async function heldRevocations(env: Env): Promise<HeldRevocation[]> {
  const held = await Promise.all([legacyHub(env), ...revocationShards(env)].map((shard) => shard.heldRevocations()))
  return held.flat()
}

/** A peer's first link with the instance: every shard lists it, and what they hold is its catch-up. */
export async function peerLinked(env: Env, peer: string): Promise<HeldRevocation[]> {
  const held = await Promise.all([
    legacyHub(env).heldRevocations(),
    ...revocationShards(env).map((shard) => shard.addRevocationPeer(peer)),
  ])
  return held.flat()
}

/** A shard's tables: the linked peers and the revocations not yet passed on to them all. */
export class RevocationPeers {
  private readonly sql: SqlStorage

  constructor(sql: SqlStorage) {
    this.sql = sql
    sql.exec(`CREATE TABLE IF NOT EXISTS revocation_peers (peer TEXT PRIMARY KEY);
      CREATE TABLE IF NOT EXISTS pending_revocations (id TEXT PRIMARY KEY, revocation BLOB NOT NULL,
        token BLOB NOT NULL, at INTEGER NOT NULL)`)
  }

  /** Lists `peer`; whether it was new here. */
  add(peer: string): boolean {
    return this.sql.exec('INSERT OR IGNORE INTO revocation_peers (peer) VALUES (?)', peer).rowsWritten > 0
  }

  peers(): string[] {
    return this.sql
      .exec<{ peer: string }>('SELECT peer FROM revocation_peers ORDER BY peer')
      .toArray()
      .map((r) => r.peer)
  }

  /** Holds a revocation while its outboxes take it. */
  pend(id: string, revocation: Uint8Array, token: Uint8Array, now: number): void {
    this.sql.exec('INSERT OR IGNORE INTO pending_revocations VALUES (?, ?, ?, ?)', id, revocation, token, now)
  }

  /** The revocation's outboxes took it. */
  settle(id: string): void {
    this.sql.exec('DELETE FROM pending_revocations WHERE id = ?', id)
  }

  pending(): HeldRevocation[] {
    return this.sql
      .exec<{ revocation: ArrayBuffer; token: ArrayBuffer }>(
        'SELECT revocation, token FROM pending_revocations ORDER BY at',
      )
      .toArray()
      .map((r) => ({ revocation: new Uint8Array(r.revocation), token: new Uint8Array(r.token) }))
  }

  count(): number {
    return this.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM revocation_peers').one().n + this.pending().length
  }
}
