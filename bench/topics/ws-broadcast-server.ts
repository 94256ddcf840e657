/**
 * The topic benchmark's Node anchor (not part of the product): a `ws`
 * server that speaks the topic socket protocol with nothing else. Each
 * `/v1/topics/<topic>` path is a room; a `pub` gets the room's next cursor
 * (in memory), is sent to every socket of the room as its own `msg` frame
 * (encoded once per message) and answered `ok`. No signature check, history,
 * dedup, rate or flow control; acks are ignored. `GET /healthz` answers 200.
 *
 *   node bench/topics/ws-broadcast-server.ts --port 8790
 */
import { createServer } from 'node:http'
import { type WebSocket, WebSocketServer } from 'ws'
import { decodeTopicClientFrame, encodeTopicFrame, TopicFrameType } from '../../shared/src/topic-protocol.ts'
import { int, parseOptions } from '../lib/options.ts'

const { port } = parseOptions('node bench/topics/ws-broadcast-server.ts [flags]', {
  port: int(8790, 1, 65_535, 'port on 127.0.0.1'),
})

interface TopicRoom {
  cursor: number
  readonly sockets: Set<WebSocket>
}

const rooms = new Map<string, TopicRoom>()
const http = createServer((req, res) => {
  res.writeHead(req.url === '/healthz' ? 200 : 404).end()
})
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false })

http.on('upgrade', (req, socket, head) => {
  const topic = /^\/v1\/topics\/([^/?]+)/.exec(req.url ?? '')?.[1]
  if (topic === undefined) {
    socket.destroy()
    return
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    let room = rooms.get(topic)
    if (!room) {
      room = { cursor: 0, sockets: new Set() }
      rooms.set(topic, room)
    }
    const r = room
    r.sockets.add(ws)
    ws.on('close', () => {
      r.sockets.delete(ws)
      if (r.sockets.size === 0) rooms.delete(topic)
    })
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) return
      const frame = decodeTopicClientFrame(new Uint8Array(data))
      if (frame.t !== TopicFrameType.Publish) return
      const c = ++r.cursor
      const msg = encodeTopicFrame({ t: TopicFrameType.Message, c, e: frame.e })
      for (const socket of r.sockets) socket.send(msg)
      ws.send(encodeTopicFrame({ t: TopicFrameType.Ok, id: '', c, dup: false }))
    })
    ws.send(encodeTopicFrame({ t: TopicFrameType.Live, c: r.cursor }))
  })
})

http.listen(port, '127.0.0.1', () => console.log(`listening on 127.0.0.1:${port}`))
