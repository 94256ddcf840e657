/**
 * `SocketHost`, what every Durable Object that holds hibernatable sockets
 * does the same way, whatever it speaks: accept a socket for an access
 * decision (its state in the attachment, an expiry alarm, a cap per
 * identity), screen frames (type, size, rate), close an offending socket
 * with a code and a reason while sparing the others, send without letting a
 * closing socket throw, and broadcast. Rooms (`room.ts`) build their
 * template on it; objects that are not rooms (the bridge links, signaling)
 * compose it, so none of them rewrites this code or inherits ownership it
 * does not need.
 *
 * @example
 * ```ts
 * const host = new SocketHost(ctx, { guard: CredentialGuard, left: (ws) => forget(ws) })
 * const [client] = await host.accept(access, { what: 'bridge links' })
 * host.broadcast(frame, { readersOnly: false })
 * ```
 */
import { CloseCode, closeReason, ErrorCode, Limits, VivimError } from '@vivim/shared'
import type { Access } from '../http/access.ts'
import { errorResponse } from '../http/errors.ts'
import { refuseSocket } from '../http/refuse-socket.ts'
import type { CredentialGuard } from './room-guard.ts'
import { isUpgrade } from './room-headers.ts'
import { admittedState, frameBudget, type SocketState, setSocketState, socketState } from './socket-state.ts'

export interface SocketHostInit<G extends CredentialGuard> {
  /** The guard class: `CredentialGuard` (expiry and revocation) or `RoomGuard` (plus the owner). */
  readonly guard: new (
    ctx: DurableObjectState,
    onClose: (ws: WebSocket) => void,
  ) => G
  /** A socket is gone or refused: the host's owner lets the others know or forgets it. */
  readonly left?: (ws: WebSocket) => void
}

export interface AcceptOptions {
  /** Named in the refusal past `Limits.maxSocketsPerIdentity`, e.g. "connections to one room". */
  readonly what: string
  /** A tag of the socket's own, before the identity's (signaling keys subscriptions by it). */
  readonly tag?: string
  /** The attachment, when it holds more than the access decision. */
  readonly state?: SocketState
}

export interface BroadcastOptions {
  readonly except?: WebSocket | null
  /** Only sockets whose credential may read (true unless said otherwise). */
  readonly readersOnly?: boolean
}

export class SocketHost<G extends CredentialGuard = CredentialGuard> {
  readonly guard: G
  private readonly ctx: DurableObjectState
  private readonly rejected = new WeakSet<WebSocket>()
  private readonly left: (ws: WebSocket) => void

  constructor(ctx: DurableObjectState, init: SocketHostInit<G>) {
    this.ctx = ctx
    this.left = init.left ?? (() => {})
    this.guard = new init.guard(ctx, (ws) => {
      this.rejected.add(ws)
      this.left(ws)
    })
  }

  /**
   * Accepts a hibernatable socket for `access`. One identity holds at most
   * `Limits.maxSocketsPerIdentity` sockets here (a tag per DID lets the
   * runtime count them), so one credential cannot fill an object's memory
   * with connections.
   */
  async accept(access: Access, options: AcceptOptions): Promise<[client: WebSocket, server: WebSocket]> {
    const identity = access.did === null ? null : `did:${access.did}`.slice(0, 256)
    if (identity !== null && this.ctx.getWebSockets(identity).length >= Limits.maxSocketsPerIdentity) {
      throw new VivimError(
        ErrorCode.RateLimited,
        `one identity may hold at most ${Limits.maxSocketsPerIdentity} ${options.what}`,
      )
    }
    const tags = [options.tag, identity].filter((t): t is string => t !== undefined && t !== null)
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket]
    this.ctx.acceptWebSocket(server, tags)
    setSocketState(server, options.state ?? admittedState(access))
    await this.guard.admitted(access.exp)
    return [client, server]
  }

  /** Whether the socket is still served (not refused, revoked or expired by this host). */
  serves(ws: WebSocket): boolean {
    return !this.rejected.has(ws)
  }

  /** The sockets still served, readers only unless `readersOnly` is false. */
  sockets(readersOnly = true): WebSocket[] {
    return this.ctx.getWebSockets().filter((ws) => this.serves(ws) && (!readersOnly || socketState(ws).canRead))
  }

  /** A binary frame within the size limit, as bytes; anything else closes the socket and gives null. */
  binary(ws: WebSocket, message: ArrayBuffer | string): Uint8Array | null {
    if (this.rejected.has(ws)) return null
    if (typeof message === 'string') {
      this.reject(ws, CloseCode.UnsupportedData, 'binary frames only')
    } else if (message.byteLength > Limits.maxFrameBytes) {
      this.reject(ws, CloseCode.MessageTooBig, `frame larger than ${Limits.maxFrameBytes} bytes`)
    } else {
      return new Uint8Array(message)
    }
    return null
  }

  /** Takes one frame from the socket's frame budget; closes the socket when it is spent. */
  takeFrame(ws: WebSocket): boolean {
    if (frameBudget(ws).take()) return true
    this.reject(ws, CloseCode.RateLimited, `more than ${Limits.maxFramesPerSecond} frames per second`)
    return false
  }

  /** Closes one socket with a code and a reason; the others are untouched. */
  reject(ws: WebSocket, code: CloseCode, reason: string): void {
    this.rejected.add(ws)
    this.left(ws)
    try {
      ws.close(code, closeReason(reason))
    } catch {}
  }

  /** The runtime's close event: forget the socket and complete the closing handshake. */
  closed(ws: WebSocket, code: number, reason: string): void {
    this.left(ws)
    try {
      ws.close(code === 1005 || code === 1006 ? CloseCode.Normal : code, reason)
    } catch {}
  }

  /** The runtime's error event. */
  errored(ws: WebSocket): void {
    this.left(ws)
  }

  send(ws: WebSocket, frame: Uint8Array | string): void {
    try {
      ws.send(frame)
    } catch {
      // The socket is closing; its close handler cleans up.
    }
  }

  /** Sends one frame to every socket served (readers only unless told); how many got it. */
  broadcast(frame: Uint8Array | string, options: BroadcastOptions = {}): number {
    let sent = 0
    for (const ws of this.sockets(options.readersOnly ?? true)) {
      if (ws === options.except) continue
      this.send(ws, frame)
      sent++
    }
    return sent
  }
}

/**
 * Runs an object's fetch; a refusal is answered in the JSON error shape, or, for a WebSocket
 * upgrade, on an accepted socket closed at once with `4000 + status` (as the Worker refuses),
 * since a browser sees nothing of a failed upgrade but 1006.
 */
export async function answerRefusing(request: Request, run: () => Promise<Response>): Promise<Response> {
  try {
    return await run()
  } catch (error) {
    if (!(error instanceof VivimError)) throw error
    return isUpgrade(request) ? refuseSocket(error) : errorResponse(error)
  }
}
