/**
 * `SignalingLeases`, the Durable Object of one identity's signaling
 * sockets: one object per DID (`SIGNALING_LEASES.getByName(did)`), holding
 * a lease, an internal WebSocket from the Worker, for each open client
 * socket of that identity (`signaling-session.ts`). It is what signaling
 * keeps per identity now that the client sockets are held by the Worker and
 * no object sees them all:
 *
 * - the cap: at most `Limits.maxSocketsPerIdentity` leases, so a connect
 *   past it is refused (429) before the client's socket is accepted;
 * - expiry: an alarm at the earliest `exp` closes the expired leases 4408;
 * - revocation: the revocation registry watches `{ kind: 'signaling',
 *   name: did }` and calls `revoke(ids)` here, which closes the leases
 *   admitted on those tokens 4401.
 *
 * The Worker closes the client socket with the code its lease closed with,
 * at once. A lease carries no frames, so the object hibernates between
 * connects and wakes only for the alarm or a revocation. When the Worker
 * goes away its leases close with it, so the count never goes stale.
 * Refusals are answered as JSON errors, not as refused sockets, because
 * the Worker reads them before it answers the client.
 */
import { DurableObject } from 'cloudflare:workers'
import { CloseCode, ErrorCode, VivimError } from '@vivim/shared'
import { errorResponse } from '../http/errors.ts'
import { CredentialGuard } from './room-guard.ts'
import { isUpgrade, readRoomRequest } from './room-headers.ts'
import { SocketHost } from './socket-host.ts'

export class SignalingLeases extends DurableObject<Env> {
  private readonly sockets: SocketHost

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    this.sockets = new SocketHost(ctx, { guard: CredentialGuard })
  }

  /** Accepts a lease for the access the Worker decided; a refusal is a JSON error. */
  override async fetch(request: Request): Promise<Response> {
    try {
      if (!isUpgrade(request)) throw new VivimError(ErrorCode.UpgradeRequired, 'a lease is a WebSocket')
      const { access } = readRoomRequest(request)
      const [client] = await this.sockets.accept(access, { what: 'signaling connections' })
      return new Response(null, { status: 101, webSocket: client })
    } catch (error) {
      if (error instanceof VivimError) return errorResponse(error)
      throw error
    }
  }

  /** Closes the leases admitted on any of these (now revoked) tokens. */
  revoke(ids: string[]): number {
    return this.sockets.guard.revoke(ids)
  }

  override async alarm(): Promise<void> {
    await this.sockets.guard.expire()
  }

  override webSocketMessage(ws: WebSocket): void {
    this.sockets.reject(ws, CloseCode.BadFrame, 'a lease carries no frames')
  }

  override webSocketClose(ws: WebSocket, code: number, reason: string): void {
    this.sockets.closed(ws, code, reason)
  }

  override webSocketError(ws: WebSocket): void {
    this.sockets.errored(ws)
  }
}
