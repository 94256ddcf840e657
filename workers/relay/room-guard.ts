/**
 * What every room does about access after the Worker has decided it: keep
 * the resource's owner (its creator, for rooms whose name does not say), and
 * close sockets whose credential expires (an alarm at the earliest expiry)
 * or is revoked (pushed by the revocation registry). Most Yjs servers check
 * a token once, at connect; here a permission that changes takes effect on
 * the live connection.
 *
 * `CredentialGuard` is the expiry and revocation part alone, for objects
 * that hold sockets but own nothing (the signaling hub); `RoomGuard` adds
 * the owner.
 */
import { CloseCode, closeReason } from '@vivim/shared'
import { socketState } from './socket-state.ts'

/** Closes sockets whose credential expired or was revoked; their attachment holds `exp` and `tokens`. */
export class CredentialGuard {
  protected readonly ctx: DurableObjectState
  private readonly onClose: (ws: WebSocket) => void

  /** `onClose` runs for each socket the guard closes, before it is closed. */
  constructor(ctx: DurableObjectState, onClose: (ws: WebSocket) => void) {
    this.ctx = ctx
    this.onClose = onClose
  }

  /** Call after accepting a socket whose credential expires at `exp`. */
  async admitted(exp: number | null): Promise<void> {
    if (exp === null) return
    const current = await this.ctx.storage.getAlarm()
    if (current === null || exp < current) await this.ctx.storage.setAlarm(exp)
  }

  /** The alarm handler: closes expired sockets, then waits for the next expiry. */
  async expire(): Promise<void> {
    const now = Date.now()
    let next = Number.POSITIVE_INFINITY
    for (const ws of this.ctx.getWebSockets()) {
      const { exp } = socketState(ws)
      if (exp === null) continue
      if (exp <= now) this.close(ws, CloseCode.TokenExpired, 'the credential expired')
      else next = Math.min(next, exp)
    }
    if (next !== Number.POSITIVE_INFINITY) await this.ctx.storage.setAlarm(next)
  }

  /** Closes every socket admitted on a chain that contains a revoked token. */
  revoke(ids: readonly string[]): number {
    const revoked = new Set(ids)
    let closed = 0
    for (const ws of this.ctx.getWebSockets()) {
      if (socketState(ws).tokens.some((id) => revoked.has(id))) {
        this.close(ws, CloseCode.Unauthorized, 'the credential was revoked')
        closed++
      }
    }
    return closed
  }

  private close(ws: WebSocket, code: CloseCode, reason: string): void {
    this.onClose(ws)
    try {
      ws.close(code, closeReason(reason))
    } catch {}
  }
}

/** A room's guard: expiry and revocation, and the resource's owner in the room's SQLite. */
export class RoomGuard extends CredentialGuard {
  constructor(ctx: DurableObjectState, onClose: (ws: WebSocket) => void) {
    super(ctx, onClose)
    ctx.storage.sql.exec(
      'CREATE TABLE IF NOT EXISTS room_owner (id INTEGER PRIMARY KEY CHECK (id = 1), did TEXT NOT NULL)',
    )
  }

  owner(): string | null {
    const row = this.ctx.storage.sql.exec<{ did: string }>('SELECT did FROM room_owner').toArray()[0]
    return row?.did ?? null
  }

  /** Makes `did` the owner unless someone already is; whether `did` is the owner afterwards. */
  claim(did: string): boolean {
    this.ctx.storage.sql.exec('INSERT OR IGNORE INTO room_owner (id, did) VALUES (1, ?)', did)
    return this.owner() === did
  }
}
