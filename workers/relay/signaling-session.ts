/**
 * WebRTC signaling for browser-to-browser document sync, in the protocol of
 * the public `y-webrtc` package and its reference server, so a stock
 * `WebrtcProvider` with `signaling: ['wss://HOST/v1/signaling?token=…']`
 * finds its peers through the edge. JSON text frames:
 *
 *   { type: "subscribe", topics: [name…] }     join rooms
 *   { type: "unsubscribe", topics: [name…] }   leave rooms
 *   { type: "publish", topic: name, … }        relayed as is to every socket in the room, sender included
 *   { type: "ping" } → { type: "pong" }        answered in turn, after the frames before it
 *
 * The Worker holds the client's socket itself (`acceptSignaling`), because
 * one socket joins many rooms and each room is an object of its own
 * (`signaling-room.ts`): no object serves the whole deployment, and none
 * sits on a message's path but the room's. Per client socket the Worker
 * keeps a lease at its identity's object (`signaling-leases.ts`: the cap on
 * sockets per identity, expiry, revocation) and a link to each room it
 * joined (`signaling-links.ts`). Why the Worker and not a per-socket object:
 * the Worker holds outgoing links without being billed for their idle
 * time, while an object holding outgoing sockets could never hibernate.
 *
 * What a socket may do is decided here, frame by frame, in the order the
 * frames came (a subscribe that waits for a document's owner holds back
 * the frames behind it, so a ping is answered once all before it is done):
 * JSON text only (1003), at most `Limits.maxSignalingMessageBytes` (1009),
 * the byte and frame budgets (4429), at most `Limits.maxSignalingTopics`
 * rooms (4400), a room joined only if the grant covers it and is rooted at
 * its owner (4403, `signaling-access.ts`), a publish only to a room joined
 * (4403). When its lease closes (4408 expired, 4401 revoked, at the
 * object's alarm or as the registry pushes it) the client socket closes at
 * once with that code, and so does every link. Each join costs the client's
 * connection a subrequest (and an owner lookup unless this isolate knows
 * the owner), so the platform's subrequest limit bounds how often one
 * connection may join; past it the socket closes 1011 and y-webrtc connects
 * again.
 */
import { CloseCode, closeReason, Limits } from '@vivim/shared'
import { cachedOwner, mayJoin, type SignalingAccess, type SignalingGrant } from './signaling-access.ts'
import { byteBudget, utf8Length } from './signaling-budget.ts'
import { openLease, openRoomLink, passedOn } from './signaling-links.ts'
import { frameBudget } from './socket-state.ts'

const PONG = JSON.stringify({ type: 'pong' })

interface SignalingMessage {
  type?: unknown
  topics?: unknown
  topic?: unknown
}

/** Accepts a signaling socket admitted with `access`; throws the lease's refusal (the identity's cap). */
export async function acceptSignaling(env: Env, access: SignalingAccess): Promise<Response> {
  const lease = access.did === null ? null : await openLease(env, access.did, access)
  const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket]
  server.accept()
  SignalingSession.start(env, server, access.grant, lease)
  return new Response(null, { status: 101, webSocket: client })
}

/** One client socket: its frames in order, its lease, and its link to each room it joined. */
class SignalingSession {
  private readonly env: Env
  private readonly ws: WebSocket
  private readonly grant: SignalingGrant | null
  private readonly lease: WebSocket | null
  private readonly rooms = new Map<string, WebSocket>()
  /** The frames handled so far; each waits for the one before. */
  private queue: Promise<void> = Promise.resolve()
  private open = true

  private constructor(env: Env, ws: WebSocket, grant: SignalingGrant | null, lease: WebSocket | null) {
    this.env = env
    this.ws = ws
    this.grant = grant
    this.lease = lease
  }

  static start(env: Env, ws: WebSocket, grant: SignalingGrant | null, lease: WebSocket | null): void {
    const session = new SignalingSession(env, ws, grant, lease)
    ws.addEventListener('message', (event) => session.received(event.data))
    ws.addEventListener('close', (event) => session.ended(event.code, event.reason))
    ws.addEventListener('error', () => session.ended(CloseCode.InternalError, 'socket error'))
    lease?.addEventListener('close', (event) => session.close(passedOn(event.code), event.reason || 'lease closed'))
  }

  private received(frame: string | ArrayBuffer): void {
    const message = this.screen(frame)
    if (message === null) return
    this.queue = this.queue
      .then(() => this.handle(message, frame as string))
      .catch(() => this.close(CloseCode.InternalError, 'internal error'))
  }

  /** The frame as a signaling message if the socket may send it; otherwise the socket is closed and null returned. */
  private screen(frame: string | ArrayBuffer): SignalingMessage | null {
    if (!this.open) return null
    if (typeof frame !== 'string') return this.refuse(CloseCode.UnsupportedData, 'JSON text frames only')
    const bytes = utf8Length(frame)
    if (bytes > Limits.maxSignalingMessageBytes) {
      return this.refuse(CloseCode.MessageTooBig, `message larger than ${Limits.maxSignalingMessageBytes} bytes`)
    }
    if (!byteBudget(this.ws).take(bytes)) {
      return this.refuse(CloseCode.RateLimited, `more than ${Limits.maxSignalingBytesPerSecond} bytes per second`)
    }
    if (!frameBudget(this.ws).take()) {
      return this.refuse(CloseCode.RateLimited, `more than ${Limits.maxFramesPerSecond} frames per second`)
    }
    let message: unknown
    try {
      message = JSON.parse(frame)
    } catch {
      return this.refuse(CloseCode.BadFrame, 'not JSON')
    }
    if (typeof message !== 'object' || message === null || Array.isArray(message)) {
      return this.refuse(CloseCode.BadFrame, 'not a signaling message')
    }
    return message as SignalingMessage
  }

  private async handle(message: SignalingMessage, frame: string): Promise<void> {
    if (!this.open) return
    switch (message.type) {
      case 'subscribe':
        return this.subscribe(message.topics)
      case 'unsubscribe':
        for (const name of topicList(message.topics) ?? []) this.leave(name)
        return
      case 'publish':
        if (typeof message.topic === 'string') this.publish(message.topic, frame)
        return
      case 'ping':
        send(this.ws, PONG)
        return
    }
  }

  /** Checks every room named, then opens a link to each new one; one refusal closes the socket. */
  private async subscribe(topics: unknown): Promise<void> {
    const list = topicList(topics)
    if (list === null) return void this.refuse(CloseCode.BadFrame, 'topics is a list of room names')
    const fresh = [...new Set(list)].filter((name) => !this.rooms.has(name))
    if (this.rooms.size + fresh.length > Limits.maxSignalingTopics) {
      return void this.refuse(CloseCode.BadFrame, `at most ${Limits.maxSignalingTopics} rooms per connection`)
    }
    for (const name of fresh) {
      const allowed = await mayJoin(this.grant, name, (docId) => cachedOwner(this.env, docId))
      // The socket may have closed (expired, revoked, gone) while the owner was asked.
      if (!this.open) return
      if (!allowed) return void this.refuse(CloseCode.Forbidden, `this credential may not join room ${name}`)
    }
    // Each link is joined as soon as it opens, before any of its events can be dispatched.
    const opened = await Promise.allSettled(
      fresh.map((name) => openRoomLink(this.env, name).then((link) => this.join(name, link))),
    )
    const failed = opened.find((result) => result.status === 'rejected')
    if (failed !== undefined) throw failed.reason
  }

  /** Relays the room's publishes to the client while the link is this room's; closes the client if the room goes. */
  private join(name: string, link: WebSocket): void {
    if (!this.open) return void closeQuietly(link, CloseCode.Normal, 'the connection closed')
    this.rooms.set(name, link)
    link.addEventListener('message', (event) => {
      if (this.rooms.get(name) === link) send(this.ws, event.data as string)
    })
    link.addEventListener('close', (event) => {
      if (this.rooms.get(name) === link) this.close(passedOn(event.code), `room ${name} went away`)
    })
  }

  private leave(name: string): void {
    const link = this.rooms.get(name)
    if (link === undefined) return
    this.rooms.delete(name)
    closeQuietly(link, CloseCode.Normal, 'left the room')
  }

  private publish(name: string, frame: string): void {
    const link = this.rooms.get(name)
    if (link === undefined) {
      this.refuse(CloseCode.Forbidden, `publish only to rooms this connection joined, not ${name}`)
      return
    }
    send(link, frame)
  }

  /** Closes the client socket with `code`; null, for `screen` to return. */
  private refuse(code: CloseCode, reason: string): null {
    this.close(code, reason)
    return null
  }

  /** Closes the client socket and every link, once. */
  close(code: number, reason: string): void {
    if (!this.open) return
    closeQuietly(this.ws, code, closeReason(reason))
    this.release()
  }

  /** The client closed (or its socket failed): complete the close and let the objects go. */
  private ended(code: number, reason: string): void {
    if (!this.open) return
    closeQuietly(this.ws, code === 1005 || code === 1006 ? CloseCode.Normal : code, reason)
    this.release()
  }

  private release(): void {
    this.open = false
    if (this.lease !== null) closeQuietly(this.lease, CloseCode.Normal, 'the connection closed')
    for (const link of this.rooms.values()) closeQuietly(link, CloseCode.Normal, 'the connection closed')
    this.rooms.clear()
  }
}

/** Room names as y-webrtc sends them: strings; null when `topics` is not a list. */
function topicList(topics: unknown): string[] | null {
  if (!Array.isArray(topics)) return null
  return topics.filter(
    (t): t is string => typeof t === 'string' && t.length > 0 && t.length <= Limits.maxTopicNameBytes,
  )
}

function send(ws: WebSocket, frame: string): void {
  try {
    ws.send(frame)
  } catch {
    // The socket is closing; its close event releases the session.
  }
}

function closeQuietly(ws: WebSocket, code: number, reason: string): void {
  try {
    ws.close(code, reason)
  } catch {}
}
