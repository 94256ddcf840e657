// A Durable Object that counts WebSocket messages and does nothing else, so the
// runtime's own cost of delivering a message shows alone. `?api=hibernatable`
// accepts with `ctx.acceptWebSocket` (what the rooms use), `?api=plain` with
// `accept()` and an event listener.
import { DurableObject } from 'cloudflare:workers'

export class Counter extends DurableObject {
  received = 0

  async fetch(request) {
    const url = new URL(request.url)
    if (url.pathname === '/count') return Response.json({ received: this.received })
    const [client, server] = Object.values(new WebSocketPair())
    if (url.searchParams.get('api') === 'plain') {
      server.accept()
      server.addEventListener('message', () => {
        this.received++
      })
    } else {
      this.ctx.acceptWebSocket(server)
    }
    return new Response(null, { status: 101, webSocket: client })
  }

  webSocketMessage() {
    this.received++
  }
}

export default {
  fetch: (request, env) => env.COUNTER.getByName(new URL(request.url).searchParams.get('room') ?? 'one').fetch(request),
}
