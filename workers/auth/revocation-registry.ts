/**
 * `RevocationRegistry`, the edge's record of revoked capability tokens: one
 * Durable Object per token id (`token:<id>`), so a revocation is seen by
 * every later check at once (KV would take up to a minute) and no object
 * serves the whole deployment. A connect asks the objects of its chain's
 * links, in parallel; a revocation goes to the object of the token it
 * names. Rooms that admit a socket on a chain register with each link's
 * object; a revocation of the link is pushed to those rooms, which close the
 * sockets at once: changed permissions take effect on live connections. One
 * object serializes the check and the revocation of its token, so a socket
 * admitted at the moment its token is revoked is either refused or
 * registered before the revocation, which then closes it.
 *
 * State: per token object, its revocation (if any) and the rooms watching
 * it; an object exists only for a token that was checked or revoked, and
 * grows with the rooms that admitted sockets on that token.
 */

import { DurableObject } from 'cloudflare:workers'
import {
  type Capability,
  capabilityId,
  decodeCapability,
  decodeRevocation,
  ErrorCode,
  type Settled,
  settle,
  unwrap,
  VivimError,
  validateRevocation,
} from '@vivim/shared'
import { edgeEvents } from '../extensions/events.ts'

export type RoomKind = 'doc' | 'topic' | 'sealed' | 'signaling' | 'bridge'

export interface RoomRef {
  readonly kind: RoomKind
  readonly name: string
}

export class RevocationRegistry extends DurableObject<Env> {
  private readonly sql: SqlStorage

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    this.sql = ctx.storage.sql
    this.sql.exec(`CREATE TABLE IF NOT EXISTS revoked (id TEXT PRIMARY KEY, at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS watchers (id TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL,
        PRIMARY KEY (id, kind, name));`)
  }

  /** Which of `ids` are revoked; when `room` is given, it is told of later revocations of the others. */
  revokedAmong(ids: readonly string[], room?: RoomRef): string[] {
    const revoked = ids.filter((id) => this.sql.exec('SELECT 1 FROM revoked WHERE id = ?', id).toArray().length > 0)
    if (room && revoked.length === 0) {
      for (const id of ids) {
        this.sql.exec('INSERT OR IGNORE INTO watchers (id, kind, name) VALUES (?, ?, ?)', id, room.kind, room.name)
      }
    }
    return revoked
  }

  /**
   * Stores a revocation after checking it against the token it names, then
   * tells the rooms using it; the revoked token's id, or the refusal
   * (`rpc-result.ts` in `shared/`).
   */
  revoke(revocationBytes: Uint8Array, tokenBytes: Uint8Array): Promise<Settled<string>> {
    return settle(() => this.store(revocationBytes, tokenBytes))
  }

  private async store(revocationBytes: Uint8Array, tokenBytes: Uint8Array): Promise<string> {
    const revocation = decodeRevocation(revocationBytes)
    const token: Capability = decodeCapability(tokenBytes)
    await validateRevocation(revocation, token)
    const id = capabilityId(tokenBytes)
    if (id !== revocation.revoke) throw new VivimError(ErrorCode.BadRequest, 'the revocation names another token')
    this.sql.exec('INSERT OR IGNORE INTO revoked (id, at) VALUES (?, ?)', id, Date.now())
    // Acknowledged only once every extension (the federation outboxes) holds it, so a crash cannot drop it on the way.
    const federated = edgeEvents.revocationStored(this.env, { revocation: revocationBytes, token: tokenBytes })
    const rooms = this.sql
      .exec<{ kind: RoomKind; name: string }>('SELECT kind, name FROM watchers WHERE id = ?', id)
      .toArray()
    this.sql.exec('DELETE FROM watchers WHERE id = ?', id)
    await Promise.all([federated, ...rooms.map((room) => roomStub(this.env, room).revoke([id]))])
    return id
  }
}

/** The registry object of token `id`. */
function registryOf(env: Env, id: string): DurableObjectStub<RevocationRegistry> {
  return env.REVOCATIONS.getByName(`token:${id}`)
}

/**
 * Which of `ids` (a chain's token ids) are revoked, asking each token's object at once; when
 * `room` is given, it is told of later revocations of the others.
 */
export async function revokedAmong(env: Env, ids: readonly string[], room?: RoomRef): Promise<string[]> {
  const answers = await Promise.all([...new Set(ids)].map((id) => registryOf(env, id).revokedAmong([id], room)))
  return answers.flat()
}

/** Stores a revocation in the object of the token it names (which checks that it is that token). */
export async function revoke(env: Env, revocationBytes: Uint8Array, tokenBytes: Uint8Array): Promise<string> {
  const named = decodeRevocation(revocationBytes).revoke
  return unwrap(await registryOf(env, named).revoke(revocationBytes, tokenBytes))
}

function roomStub(env: Env, room: RoomRef) {
  if (room.kind === 'doc') return env.DOC_ROOM.getByName(room.name)
  if (room.kind === 'topic') return env.TOPIC_ROOM.getByName(room.name)
  // Signaling is watched per identity: its leases close the client sockets.
  if (room.kind === 'signaling') return env.SIGNALING_LEASES.getByName(room.name)
  if (room.kind === 'bridge') return env.BRIDGE_LINK.getByName(room.name)
  return env.SEALED_DOC_ROOM.getByName(room.name)
}
