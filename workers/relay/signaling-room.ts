/**
 * `SignalingRoom`, the Durable Object of one y-webrtc signaling room: one
 * object per room name (`SIGNALING_ROOM.getByName(room)`), so no object
 * carries the signaling of the whole deployment. Its members are links, one
 * internal WebSocket per client socket that joined the room, opened by the
 * Worker that holds the client socket (`signaling-session.ts`) once that
 * Worker has checked the join. Every text frame a link sends is a publish
 * the Worker already screened; the room relays it unchanged to every link,
 * the sender's included, as the stock y-webrtc server does.
 *
 * Why links rather than RPC: the room keeps nothing but its accepted
 * sockets, which the runtime holds while the object hibernates, so a quiet
 * room costs nothing and wakes per publish; a link delivers one room's
 * publishes to a member in the order the room sent them; and either end
 * going away (a deploy, a client gone) is seen by the other as a close, so
 * no membership table can go stale and no callback stub dies with an
 * isolate. The room trusts its links (only the Worker reaches it, through
 * its binding) but still takes only text within the message size limit, so
 * nothing it relays is larger than a client could have sent.
 */
import { DurableObject } from 'cloudflare:workers'
import { CloseCode, ErrorCode, Limits, VivimError } from '@vivim/shared'
import { errorResponse } from '../http/errors.ts'
import { isUpgrade } from './room-headers.ts'
import { utf8Length } from './signaling-budget.ts'

export class SignalingRoom extends DurableObject<Env> {
  /** Accepts a member link; the Worker has already decided the client may join. */
  override fetch(request: Request): Response {
    if (!isUpgrade(request)) {
      return errorResponse(new VivimError(ErrorCode.UpgradeRequired, 'a signaling room takes member links only'))
    }
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket]
    this.ctx.acceptWebSocket(server)
    return new Response(null, { status: 101, webSocket: client })
  }

  /** Relays a member's publish to every member, the sender included. */
  override webSocketMessage(ws: WebSocket, message: ArrayBuffer | string): void {
    if (typeof message !== 'string') {
      close(ws, CloseCode.UnsupportedData, 'JSON text frames only')
      return
    }
    if (utf8Length(message) > Limits.maxSignalingMessageBytes) {
      close(ws, CloseCode.MessageTooBig, `message larger than ${Limits.maxSignalingMessageBytes} bytes`)
      return
    }
    for (const member of this.ctx.getWebSockets()) {
      try {
        member.send(message)
      } catch {
        // The member is closing; its close handler completes it.
      }
    }
  }

  override webSocketClose(ws: WebSocket, code: number, reason: string): void {
    close(ws, code === 1005 || code === 1006 ? CloseCode.Normal : code, reason)
  }

  override webSocketError(ws: WebSocket): void {
    close(ws, CloseCode.InternalError, 'link failed')
  }
}

function close(ws: WebSocket, code: number, reason: string): void {
  try {
    ws.close(code, reason)
  } catch {}
}
