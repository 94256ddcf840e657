// The topic benchmark's naive broadcast Durable Object (bench/topics/run.ts; not part of the
// product): one object per topic that speaks the topic socket protocol and nothing else. A `pub`
// gets the next cursor (in memory, never stored), is sent to every socket as its own `msg` frame
// (encoded once per message) and answered `ok`; no signature check, history, dedup, rate or flow
// control, and acks are ignored. Sockets are hibernatable (`ctx.acceptWebSocket`), as the edge's
// rooms are. Plain JavaScript so the Node type-check (`tsconfig.node.json`) leaves it alone;
// wrangler bundles the shared TypeScript it imports.
import { DurableObject } from 'cloudflare:workers'
import { decodeTopicClientFrame, encodeTopicFrame, TopicFrameType } from '../../../shared/src/topic-protocol.ts'

export class NaiveTopic extends DurableObject {
  cursor = 0

  async fetch() {
    const [client, server] = Object.values(new WebSocketPair())
    this.ctx.acceptWebSocket(server)
    server.send(encodeTopicFrame({ t: TopicFrameType.Live, c: this.cursor }))
    return new Response(null, { status: 101, webSocket: client })
  }

  webSocketMessage(ws, message) {
    if (typeof message === 'string') return
    const frame = decodeTopicClientFrame(new Uint8Array(message))
    if (frame.t !== TopicFrameType.Publish) return
    const c = ++this.cursor
    const msg = encodeTopicFrame({ t: TopicFrameType.Message, c, e: frame.e })
    for (const socket of this.ctx.getWebSockets()) {
      try {
        socket.send(msg)
      } catch {}
    }
    ws.send(encodeTopicFrame({ t: TopicFrameType.Ok, id: '', c, dup: false }))
  }
}

export default {
  fetch(request, env) {
    const url = new URL(request.url)
    if (url.pathname === '/healthz') return new Response('ok')
    const topic = /^\/v1\/topics\/([^/]+)$/.exec(url.pathname)?.[1]
    if (topic === undefined || request.headers.get('Upgrade') !== 'websocket') {
      return new Response('not found', { status: 404 })
    }
    return env.NAIVE_TOPIC.getByName(decodeURIComponent(topic)).fetch(request)
  },
}
