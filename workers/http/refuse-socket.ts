/**
 * Refusals of WebSocket upgrades are sent on the socket, not as an HTTP
 * error: browsers hide the status and body of a failed upgrade, so the only
 * thing a client could learn is "1006". The edge accepts, then closes at
 * once with `4000 + the HTTP status` and a reason that starts with the error
 * code (`token_expired: …`), which clients, the SDK and the stock y-websocket
 * client alike, can read and act on.
 */
import { closeReason, httpStatusOf, type VivimError } from '@vivim/shared'

export function refuseSocket(error: VivimError): Response {
  const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket]
  server.accept()
  server.close(4000 + httpStatusOf(error.code), closeReason(`${error.code}: ${error.message}`))
  return new Response(null, { status: 101, webSocket: client })
}
