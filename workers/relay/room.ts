/**
 * What every room (document, topic, sealed document) does the same way:
 * keep its owner and close sockets whose credential expires or is revoked
 * (`room-guard.ts`), screen each incoming frame (binary only, size, rate),
 * close an offending socket with a code and a reason while sparing the
 * others, and send without letting a closing socket throw.
 */

import { DurableObject } from 'cloudflare:workers'
import { CloseCode, closeReason, ErrorCode, Limits, VivimError } from '@vivim/shared'
import type { Access } from '../http/access.ts'
import { errorResponse } from '../http/errors.ts'
import { refuseSocket } from '../http/refuse-socket.ts'
import { RoomGuard } from './room-guard.ts'
import { isUpgrade } from './room-headers.ts'
import { admittedState, frameBudget, setSocketState } from './socket-state.ts'

export abstract class Room extends DurableObject<Env> {
  protected readonly guard: RoomGuard
  protected readonly rejected = new WeakSet<WebSocket>()

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    this.guard = new RoomGuard(ctx, (ws) => {
      this.rejected.add(ws)
      this.left(ws)
    })
  }

  /** The resource's owner, for access checks in the Worker (null until its creator connects). */
  owner(): string | null {
    return this.guard.owner()
  }

  /**
   * Makes `did` the owner unless someone already is; whether `did` owns the room afterwards. For
   * resources that follow this room's owner (a document's sealed twin, a circle's topics) opened
   * before the room itself by a credential that may write.
   */
  claimOwner(did: string): boolean {
    return this.guard.claim(did)
  }

  /** Closes the sockets admitted on any of these (now revoked) tokens. */
  revoke(ids: string[]): number {
    return this.guard.revoke(ids)
  }

  override async alarm(): Promise<void> {
    await this.guard.expire()
  }

  override webSocketClose(ws: WebSocket, code: number, reason: string): void {
    this.left(ws)
    try {
      ws.close(code === 1005 || code === 1006 ? CloseCode.Normal : code, reason)
    } catch {}
  }

  override webSocketError(ws: WebSocket): void {
    this.left(ws)
  }

  /**
   * Runs a room's fetch; a refusal is answered in the JSON error shape, or, for a WebSocket
   * upgrade, on an accepted socket closed at once with `4000 + status` (as the Worker refuses),
   * since a browser sees nothing of a failed upgrade but 1006.
   */
  protected async answer(request: Request, run: () => Promise<Response>): Promise<Response> {
    try {
      return await run()
    } catch (error) {
      if (!(error instanceof VivimError)) throw error
      return isUpgrade(request) ? refuseSocket(error) : errorResponse(error)
    }
  }

  /** A request that makes its issuer the owner of a room nobody owned is refused if someone was faster. */
  protected claim(access: Access, what: string): void {
    if (access.newOwner !== null && !this.guard.claim(access.newOwner)) {
      throw new VivimError(ErrorCode.Forbidden, `another creator claimed this ${what} first`)
    }
  }

  /**
   * Accepts a hibernatable socket for `access`: its state in the attachment, an alarm at its expiry.
   * One identity holds at most `Limits.maxSocketsPerIdentity` sockets here (a tag per DID lets the
   * runtime count them), so one credential cannot fill a room's memory with connections.
   */
  protected async acceptSocket(access: Access): Promise<[client: WebSocket, server: WebSocket]> {
    const tags = access.did === null ? [] : [`did:${access.did}`.slice(0, 256)]
    if (tags[0] !== undefined && this.ctx.getWebSockets(tags[0]).length >= Limits.maxSocketsPerIdentity) {
      throw new VivimError(
        ErrorCode.RateLimited,
        `one identity may hold at most ${Limits.maxSocketsPerIdentity} connections to one room`,
      )
    }
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket]
    this.ctx.acceptWebSocket(server, tags)
    setSocketState(server, admittedState(access))
    await this.guard.admitted(access.exp)
    return [client, server]
  }

  /** A socket is gone or refused: subclasses let the others know (presence). */
  protected left(_ws: WebSocket): void {}

  /** The frame as bytes if the socket may send it; otherwise the socket is closed and null returned. */
  protected screen(ws: WebSocket, message: ArrayBuffer | string): Uint8Array | null {
    if (this.rejected.has(ws)) return null
    if (typeof message === 'string') {
      this.reject(ws, CloseCode.UnsupportedData, 'binary frames only')
    } else if (message.byteLength > Limits.maxFrameBytes) {
      this.reject(ws, CloseCode.MessageTooBig, `frame larger than ${Limits.maxFrameBytes} bytes`)
    } else if (!frameBudget(ws).take()) {
      this.reject(ws, CloseCode.RateLimited, `more than ${Limits.maxFramesPerSecond} frames per second`)
    } else {
      return new Uint8Array(message)
    }
    return null
  }

  protected reject(ws: WebSocket, code: CloseCode, reason: string): void {
    this.rejected.add(ws)
    this.left(ws)
    try {
      ws.close(code, closeReason(reason))
    } catch {}
  }

  protected send(ws: WebSocket, frame: Uint8Array): void {
    try {
      ws.send(frame)
    } catch {
      // The socket is closing; its close handler cleans up.
    }
  }
}
