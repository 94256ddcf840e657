/**
 * `RevocationRegistry`, the edge's record of revoked capability tokens, in
 * one Durable Object so a revocation is seen by every later check at once
 * (KV would take up to a minute). Rooms that admit a socket on a token chain
 * register its token ids here; a revocation of any of them is pushed to
 * those rooms, which close the sockets at once: changed permissions take
 * effect on live connections.
 */

import { DurableObject } from 'cloudflare:workers'
import {
  type Capability,
  capabilityId,
  decodeCapability,
  decodeRevocation,
  ErrorCode,
  VivimError,
  validateRevocation,
} from '@vivim/shared'
import { edgeEvents } from '../extensions/events.ts'

export type RoomKind = 'doc' | 'topic' | 'sealed' | 'signaling'

export type RevokeResult = { ok: true; id: string } | { ok: false; code: ErrorCode; message: string }

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
   * tells the rooms using it. Returns refusals as values: errors lose their
   * codes on the way back through RPC.
   */
  async revoke(revocationBytes: Uint8Array, tokenBytes: Uint8Array): Promise<RevokeResult> {
    try {
      return { ok: true, id: await this.store(revocationBytes, tokenBytes) }
    } catch (error) {
      if (!(error instanceof VivimError)) throw error
      return { ok: false, code: error.code, message: error.message }
    }
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

export function revocationRegistry(env: Env): DurableObjectStub<RevocationRegistry> {
  return env.REVOCATIONS.getByName('global')
}

function roomStub(env: Env, room: RoomRef) {
  if (room.kind === 'doc') return env.DOC_ROOM.getByName(room.name)
  if (room.kind === 'topic') return env.TOPIC_ROOM.getByName(room.name)
  if (room.kind === 'signaling') return env.SIGNALING_HUB.getByName(room.name)
  return env.SEALED_DOC_ROOM.getByName(room.name)
}
