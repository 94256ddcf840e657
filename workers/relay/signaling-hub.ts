/**
 * `SignalingHub`: WebRTC signaling for browser-to-browser document sync, in
 * the protocol of the public `y-webrtc` package and its reference server, so
 * a stock `WebrtcProvider` with `signaling: ['ws://HOST/v1/signaling']`
 * finds its peers through the edge. JSON text frames:
 *
 *   { type: "subscribe", topics: [name…] }     join rooms
 *   { type: "unsubscribe", topics: [name…] }   leave rooms
 *   { type: "publish", topic: name, … }        relayed as is to every socket in the room, sender included
 *   { type: "ping" } → { type: "pong" }        answered by the runtime without waking the hub
 *
 * Subscriptions live in SQLite keyed by a per-socket tag, so they outlive
 * hibernation without squeezing into a 2 KB socket attachment. One hub
 * serves every room: signaling is a handful of messages per peer per join.
 */

import { DurableObject } from 'cloudflare:workers'
import { CloseCode, closeReason, Limits } from '@vivim/shared'
import { frameBudget } from './socket-state.ts'

const PING = JSON.stringify({ type: 'ping' })
const PONG = JSON.stringify({ type: 'pong' })

export class SignalingHub extends DurableObject<Env> {
  private readonly sql: SqlStorage

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    this.sql = ctx.storage.sql
    this.sql.exec(`CREATE TABLE IF NOT EXISTS subscriptions (socket TEXT NOT NULL, topic TEXT NOT NULL,
        PRIMARY KEY (socket, topic));
      CREATE INDEX IF NOT EXISTS subscriptions_topic ON subscriptions (topic);`)
    // Rows of sockets that did not survive a restart (hibernation keeps them) are stale.
    const live = new Set(ctx.getWebSockets().flatMap((ws) => ctx.getTags(ws)))
    for (const { socket } of this.sql.exec<{ socket: string }>('SELECT DISTINCT socket FROM subscriptions')) {
      if (!live.has(socket)) this.sql.exec('DELETE FROM subscriptions WHERE socket = ?', socket)
    }
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG))
  }

  override async fetch(): Promise<Response> {
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket]
    this.ctx.acceptWebSocket(server, [crypto.randomUUID()])
    return new Response(null, { status: 101, webSocket: client })
  }

  override webSocketMessage(ws: WebSocket, message: ArrayBuffer | string): void {
    if (typeof message !== 'string') {
      this.reject(ws, CloseCode.UnsupportedData, 'JSON text frames only')
      return
    }
    if (message.length > Limits.maxSignalingMessageBytes) {
      this.reject(ws, CloseCode.MessageTooBig, `message larger than ${Limits.maxSignalingMessageBytes} bytes`)
      return
    }
    if (!frameBudget(ws).take()) {
      this.reject(ws, CloseCode.RateLimited, `more than ${Limits.maxFramesPerSecond} frames per second`)
      return
    }
    let msg: { type?: unknown; topics?: unknown; topic?: unknown }
    try {
      msg = JSON.parse(message)
    } catch {
      this.reject(ws, CloseCode.BadFrame, 'not JSON')
      return
    }
    if (typeof msg !== 'object' || msg === null) {
      this.reject(ws, CloseCode.BadFrame, 'not a signaling message')
      return
    }
    const socket = this.ctx.getTags(ws)[0] as string
    switch (msg.type) {
      case 'subscribe':
        this.subscribe(ws, socket, msg.topics)
        return
      case 'unsubscribe':
        for (const topic of topicList(msg.topics) ?? []) {
          this.sql.exec('DELETE FROM subscriptions WHERE socket = ? AND topic = ?', socket, topic)
        }
        return
      case 'publish':
        if (typeof msg.topic === 'string') this.publish(msg.topic, message)
        return
      case 'ping':
        this.send(ws, PONG)
        return
    }
  }

  override webSocketClose(ws: WebSocket, code: number, reason: string): void {
    this.forget(ws)
    try {
      ws.close(code === 1005 || code === 1006 ? CloseCode.Normal : code, reason)
    } catch {}
  }

  override webSocketError(ws: WebSocket): void {
    this.forget(ws)
  }

  private subscribe(ws: WebSocket, socket: string, topics: unknown): void {
    const list = topicList(topics)
    if (list === null) {
      this.reject(ws, CloseCode.BadFrame, 'topics is a list of room names')
      return
    }
    for (const topic of list) {
      this.sql.exec('INSERT OR IGNORE INTO subscriptions (socket, topic) VALUES (?, ?)', socket, topic)
    }
    const count = this.sql
      .exec<{ n: number }>('SELECT COUNT(*) AS n FROM subscriptions WHERE socket = ?', socket)
      .one().n
    if (count > Limits.maxSignalingTopics) {
      this.reject(ws, CloseCode.BadFrame, `at most ${Limits.maxSignalingTopics} rooms per connection`)
    }
  }

  private publish(topic: string, message: string): void {
    const rows = this.sql.exec<{ socket: string }>('SELECT socket FROM subscriptions WHERE topic = ?', topic)
    for (const { socket } of rows) {
      for (const ws of this.ctx.getWebSockets(socket)) this.send(ws, message)
    }
  }

  private forget(ws: WebSocket): void {
    const socket = this.ctx.getTags(ws)[0]
    if (socket !== undefined) this.sql.exec('DELETE FROM subscriptions WHERE socket = ?', socket)
  }

  private reject(ws: WebSocket, code: CloseCode, reason: string): void {
    this.forget(ws)
    try {
      ws.close(code, closeReason(reason))
    } catch {}
  }

  private send(ws: WebSocket, message: string): void {
    try {
      ws.send(message)
    } catch {}
  }
}

/** Room names as y-webrtc sends them: strings; null when `topics` is not a list. */
function topicList(topics: unknown): string[] | null {
  if (!Array.isArray(topics)) return null
  return topics.filter(
    (t): t is string => typeof t === 'string' && t.length > 0 && t.length <= Limits.maxTopicNameBytes,
  )
}
