/**
 * `SignalingHub`: WebRTC signaling for browser-to-browser document sync, in
 * the protocol of the public `y-webrtc` package and its reference server, so
 * a stock `WebrtcProvider` with `signaling: ['ws://HOST/v1/signaling?token=…']`
 * finds its peers through the edge. JSON text frames:
 *
 *   { type: "subscribe", topics: [name…] }     join rooms
 *   { type: "unsubscribe", topics: [name…] }   leave rooms
 *   { type: "publish", topic: name, … }        relayed as is to every socket in the room, sender included
 *   { type: "ping" } → { type: "pong" }        answered by the runtime without waking the hub
 *
 * Access (`signaling-access.ts`): a room is a document id, joined only if
 * the socket's grant covers it and is rooted at its owner; otherwise the
 * socket is closed 4403, as is a publish to a room it did not join. Expiry
 * (4408) and revocation (4401) close it like a room's (`room-guard.ts`).
 * Each socket is held to `Limits.maxSignalingTopics` rooms (4400 past it)
 * and a byte budget (4429). A socket's frames are handled in order, even
 * while a subscribe waits for a document's owner.
 *
 * Subscriptions live in SQLite keyed by a per-socket tag, so they outlive
 * hibernation without squeezing into a 2 KB socket attachment.
 */

import { DurableObject } from 'cloudflare:workers'
import { CloseCode, Limits } from '@vivim/shared'
import { CredentialGuard } from './room-guard.ts'
import { readRoomRequest } from './room-headers.ts'
import { documentOwner, mayJoin, type SignalingAccess, type SignalingGrant } from './signaling-access.ts'
import { byteBudget, utf8Length } from './signaling-budget.ts'
import { answerRefusing, SocketHost } from './socket-host.ts'
import { admittedState, type SocketState, socketState } from './socket-state.ts'

const PING = JSON.stringify({ type: 'ping' })
const PONG = JSON.stringify({ type: 'pong' })
/** Owners never change once claimed, so known ones are kept; the bound only caps memory. */
const MAX_CACHED_OWNERS = 10_000

/** A signaling socket's attachment: `any` is development mode's grant; a missing grant joins nothing. */
type SignalingSocketState = SocketState & { readonly grant?: SignalingGrant | 'any' }

interface SignalingMessage {
  type?: unknown
  topics?: unknown
  topic?: unknown
}

export class SignalingHub extends DurableObject<Env> {
  private readonly sql: SqlStorage
  private readonly sockets: SocketHost
  /** The frames of a socket still being handled, so the next waits for them. */
  private readonly pending = new WeakMap<WebSocket, Promise<void>>()
  private readonly owners = new Map<string, string>()

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
    this.sockets = new SocketHost(ctx, { guard: CredentialGuard, left: (ws) => this.forget(ws) })
  }

  override fetch(request: Request): Promise<Response> {
    return answerRefusing(request, async () => {
      const access = readRoomRequest(request).access as SignalingAccess
      const state: SignalingSocketState = { ...admittedState(access), grant: access.grant ?? 'any' }
      // The first tag keys the socket's subscriptions.
      const options = { what: 'signaling connections', tag: crypto.randomUUID(), state }
      const [client] = await this.sockets.accept(access, options)
      return new Response(null, { status: 101, webSocket: client })
    })
  }

  /** Closes the sockets admitted on any of these (now revoked) tokens. */
  revoke(ids: string[]): number {
    return this.sockets.guard.revoke(ids)
  }

  override async alarm(): Promise<void> {
    await this.sockets.guard.expire()
  }

  override webSocketMessage(ws: WebSocket, message: ArrayBuffer | string): Promise<void> | undefined {
    const msg = this.screen(ws, message)
    if (msg === null) return
    const previous = this.pending.get(ws)
    const run = previous
      ? previous.then(() => this.handle(ws, msg, message as string))
      : this.handle(ws, msg, message as string)
    if (run === undefined) return
    const tracked: Promise<void> = run
      .catch(() => this.sockets.reject(ws, CloseCode.InternalError, 'internal error'))
      .finally(() => {
        if (this.pending.get(ws) === tracked) this.pending.delete(ws)
      })
    this.pending.set(ws, tracked)
    return tracked
  }

  override webSocketClose(ws: WebSocket, code: number, reason: string): void {
    this.sockets.closed(ws, code, reason)
  }

  override webSocketError(ws: WebSocket): void {
    this.sockets.errored(ws)
  }

  /** The frame as a signaling message if the socket may send it; otherwise the socket is closed and null returned. */
  private screen(ws: WebSocket, message: ArrayBuffer | string): SignalingMessage | null {
    if (!this.sockets.serves(ws)) return null
    if (typeof message !== 'string') {
      this.sockets.reject(ws, CloseCode.UnsupportedData, 'JSON text frames only')
      return null
    }
    const bytes = utf8Length(message)
    if (bytes > Limits.maxSignalingMessageBytes) {
      this.sockets.reject(ws, CloseCode.MessageTooBig, `message larger than ${Limits.maxSignalingMessageBytes} bytes`)
      return null
    }
    if (!byteBudget(ws).take(bytes)) {
      this.sockets.reject(ws, CloseCode.RateLimited, `more than ${Limits.maxSignalingBytesPerSecond} bytes per second`)
      return null
    }
    if (!this.sockets.takeFrame(ws)) return null
    let msg: unknown
    try {
      msg = JSON.parse(message)
    } catch {
      this.sockets.reject(ws, CloseCode.BadFrame, 'not JSON')
      return null
    }
    if (typeof msg !== 'object' || msg === null) {
      this.sockets.reject(ws, CloseCode.BadFrame, 'not a signaling message')
      return null
    }
    return msg as SignalingMessage
  }

  private handle(ws: WebSocket, msg: SignalingMessage, message: string): Promise<void> | undefined {
    if (!this.sockets.serves(ws)) return
    const socket = this.ctx.getTags(ws)[0] as string
    switch (msg.type) {
      case 'subscribe':
        return this.subscribe(ws, socket, msg.topics)
      case 'unsubscribe':
        for (const topic of topicList(msg.topics) ?? []) {
          this.sql.exec('DELETE FROM subscriptions WHERE socket = ? AND topic = ?', socket, topic)
        }
        return
      case 'publish':
        if (typeof msg.topic === 'string') this.publish(ws, socket, msg.topic, message)
        return
      case 'ping':
        this.sockets.send(ws, PONG)
        return
    }
  }

  private async subscribe(ws: WebSocket, socket: string, topics: unknown): Promise<void> {
    const list = topicList(topics)
    if (list === null) {
      this.sockets.reject(ws, CloseCode.BadFrame, 'topics is a list of room names')
      return
    }
    const grant = (socketState(ws) as SignalingSocketState).grant
    for (const topic of list) {
      if (this.joined(socket, topic)) continue
      const count = this.sql
        .exec<{ n: number }>('SELECT COUNT(*) AS n FROM subscriptions WHERE socket = ?', socket)
        .one().n
      if (count >= Limits.maxSignalingTopics) {
        this.sockets.reject(ws, CloseCode.BadFrame, `at most ${Limits.maxSignalingTopics} rooms per connection`)
        return
      }
      const allowed =
        grant === 'any' || (grant !== undefined && (await mayJoin(grant, topic, (docId) => this.ownerOf(docId))))
      // The socket may have been closed (expired, revoked) while the owner was asked.
      if (!this.sockets.serves(ws)) return
      if (!allowed) {
        this.sockets.reject(ws, CloseCode.Forbidden, `this credential may not join room ${topic}`)
        return
      }
      this.sql.exec('INSERT OR IGNORE INTO subscriptions (socket, topic) VALUES (?, ?)', socket, topic)
    }
  }

  private publish(ws: WebSocket, socket: string, topic: string, message: string): void {
    if (!this.joined(socket, topic)) {
      this.sockets.reject(ws, CloseCode.Forbidden, `publish only to rooms this connection joined, not ${topic}`)
      return
    }
    const rows = this.sql.exec<{ socket: string }>('SELECT socket FROM subscriptions WHERE topic = ?', topic)
    for (const { socket: other } of rows) {
      for (const peer of this.ctx.getWebSockets(other)) this.sockets.send(peer, message)
    }
  }

  private joined(socket: string, topic: string): boolean {
    return (
      this.sql.exec('SELECT 1 FROM subscriptions WHERE socket = ? AND topic = ?', socket, topic).toArray().length > 0
    )
  }

  private async ownerOf(docId: string): Promise<string | null> {
    const known = this.owners.get(docId)
    if (known !== undefined) return known
    const owner = await documentOwner(this.env, docId)
    if (owner !== null) {
      if (this.owners.size >= MAX_CACHED_OWNERS) this.owners.clear()
      this.owners.set(docId, owner)
    }
    return owner
  }

  private forget(ws: WebSocket): void {
    const socket = this.ctx.getTags(ws)[0]
    if (socket !== undefined) this.sql.exec('DELETE FROM subscriptions WHERE socket = ?', socket)
  }
}

/** Room names as y-webrtc sends them: strings; null when `topics` is not a list. */
function topicList(topics: unknown): string[] | null {
  if (!Array.isArray(topics)) return null
  return topics.filter(
    (t): t is string => typeof t === 'string' && t.length > 0 && t.length <= Limits.maxTopicNameBytes,
  )
}
