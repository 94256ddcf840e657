/**
 * `Room`, the template of the three rooms (document, topic, sealed
 * document), as partyserver's `Server` is for its parties: the base owns the
 * socket's life and each room writes only its protocol.
 *
 *   upgrade    read the Worker's hand-off (`room-headers.ts`), `onUpgrade`
 *              (checks, a claim of the owner: throw a `VivimError` to
 *              refuse), accept (`socket-host.ts`), then `onConnect` (what a
 *              newcomer is sent first); a refusal is answered on a socket
 *              closed at once with `4000 + status`, as the Worker refuses;
 *   delivery   screen (binary, size, frame budget), `decode`, then
 *              `onFrame`; a frame that does not decode closes its socket
 *              with 4400 and spares the others;
 *   the rest   `broadcast(frame, { except })`, owner, revocation, expiry,
 *              and `onLeave` when a socket goes for any reason.
 *
 * A request that is not an upgrade goes to `onRequest`, which refuses
 * unless the room takes plain requests (a topic's HTTP publish).
 */

import { DurableObject } from 'cloudflare:workers'
import { CloseCode, ErrorCode, VivimError } from '@vivim/shared'
import type { Access } from '../http/access.ts'
import { RoomGuard } from './room-guard.ts'
import { isUpgrade, type RoomRequest, readRoomRequest } from './room-headers.ts'
import { answerRefusing, type BroadcastOptions, SocketHost } from './socket-host.ts'

export abstract class Room<Frame> extends DurableObject<Env> {
  protected readonly sockets: SocketHost<RoomGuard>
  /** What the room is called in refusals ("document room"). */
  protected abstract readonly kind: string
  /** What the room's frames are called in the reason a bad one is refused with ("topic frame"). */
  protected abstract readonly frameName: string

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    this.sockets = new SocketHost(ctx, { guard: RoomGuard, left: (ws) => this.onLeave(ws) })
  }

  /** Checks before a socket is accepted; throws a `VivimError` to refuse it. */
  protected onUpgrade(_request: RoomRequest): void | Promise<void> {}

  /** The socket is accepted: send what a newcomer needs first. */
  protected abstract onConnect(ws: WebSocket, request: RoomRequest): void

  /** A request that is not an upgrade. */
  protected onRequest(_request: RoomRequest, _raw: Request): Promise<Response> {
    throw new VivimError(ErrorCode.UpgradeRequired, `a ${this.kind} takes WebSockets only`)
  }

  /** A frame's bytes to the room's frame type; throws on anything malformed. */
  protected abstract decode(bytes: Uint8Array): Frame

  /** One decoded frame from a socket that may send it. */
  protected abstract onFrame(ws: WebSocket, frame: Frame, bytes: Uint8Array): void

  /** A socket is gone or refused: let the others know (presence), forget what it held. */
  protected onLeave(_ws: WebSocket): void {}

  /**
   * A frame short enough that it may turn out free of the frame budget
   * (decoded first, then `isFree` decides); any other pays before it is
   * decoded, so a flood costs no decoding.
   */
  protected mayBeFree(_bytes: Uint8Array): boolean {
    return false
  }

  protected isFree(_ws: WebSocket, _frame: Frame): boolean {
    return false
  }

  override fetch(request: Request): Promise<Response> {
    return answerRefusing(request, async () => {
      const room = readRoomRequest(request)
      if (!isUpgrade(request)) return this.onRequest(room, request)
      await this.onUpgrade(room)
      const [client, server] = await this.sockets.accept(room.access, { what: 'connections to one room' })
      this.onConnect(server, room)
      return new Response(null, { status: 101, webSocket: client })
    })
  }

  override webSocketMessage(ws: WebSocket, message: ArrayBuffer | string): void {
    const bytes = this.sockets.binary(ws, message)
    if (bytes === null) return
    const mayBeFree = this.mayBeFree(bytes)
    if (!mayBeFree && !this.sockets.takeFrame(ws)) return
    let frame: Frame
    try {
      frame = this.decode(bytes)
    } catch (error) {
      this.sockets.reject(ws, CloseCode.BadFrame, `not a ${this.frameName}: ${(error as Error).message}`)
      return
    }
    if (mayBeFree && !this.isFree(ws, frame) && !this.sockets.takeFrame(ws)) return
    this.onFrame(ws, frame, bytes)
  }

  override webSocketClose(ws: WebSocket, code: number, reason: string): void {
    this.sockets.closed(ws, code, reason)
  }

  override webSocketError(ws: WebSocket): void {
    this.sockets.errored(ws)
  }

  override async alarm(): Promise<void> {
    await this.sockets.guard.expire()
    await this.onAlarm()
  }

  /** The room's own work at its alarm, after credential expiry (hand-overs to retry). */
  protected onAlarm(): Promise<void> {
    return Promise.resolve()
  }

  /** The resource's owner, for access checks in the Worker (null until its creator connects). */
  owner(): string | null {
    return this.sockets.guard.owner()
  }

  /**
   * Makes `did` the owner unless someone already is; whether `did` owns the room afterwards. For
   * resources that follow this room's owner (a document's sealed twin, a circle's topics) opened
   * before the room itself by a credential that may write.
   */
  claimOwner(did: string): boolean {
    return this.sockets.guard.claim(did)
  }

  /** Closes the sockets admitted on any of these (now revoked) tokens. */
  revoke(ids: string[]): number {
    return this.sockets.guard.revoke(ids)
  }

  /** A request that makes its issuer the owner of a room nobody owned is refused if someone was faster. */
  protected claim(access: Access, what: string): void {
    if (access.newOwner !== null && !this.sockets.guard.claim(access.newOwner)) {
      throw new VivimError(ErrorCode.Forbidden, `another creator claimed this ${what} first`)
    }
  }

  /** One frame to every reader but `except`. */
  protected broadcast(frame: Uint8Array, options?: BroadcastOptions): void {
    this.sockets.broadcast(frame, options)
  }
}
