/**
 * The Topic Manager of the design for apps: `subscribe(topic, handler)`
 * returns an unsubscribe function; `publish(topic, data)` signs and sends.
 * A subscription remembers the last cursor it handled and resumes from it
 * after any reconnect, so a handler sees every message once, in order; when
 * the edge no longer holds the resume point, `onGap` says so. Messages are
 * verified here as well as at the edge: an app never trusts the edge for
 * who said what.
 *
 * @example
 * ```ts
 * const stop = client.subscribe('circle:messages:c1', (m) => console.log(m.author, m.text()))
 * await client.publish('circle:messages:c1', 'hello')
 * stop()
 * ```
 */
import {
  createEnvelope,
  decodeTopicServerFrame,
  encodeEnvelope,
  encodeTopicFrame,
  type Identity,
  Limits,
  messageId,
  type TopicEnvelope,
  TopicFrameType,
  topicMessagesOf,
  VivimError,
  validateEnvelopeAsync,
} from '@vivim/shared'
import { connectionError } from './close-errors.ts'
import { request, type TokenSource } from './http.ts'
import { ReconnectingSocket } from './reconnecting-socket.ts'

/** A message received on a topic. */
export interface TopicMessage {
  readonly id: string
  readonly cursor: number
  readonly author: string
  readonly timestamp: number
  readonly payload: Uint8Array
  /** The payload as UTF-8 text. */
  text(): string
}

/** How to subscribe: where to resume, and what to call on a gap or an error. */
export interface SubscribeOptions {
  /** The resume point fell out of the edge's history: messages from `from` to `oldest - 1` are gone. */
  onGap?: (from: number, oldest: number) => void
  /** A refusal or a connection error; the subscription stops on a terminal one. */
  onError?: (error: VivimError) => void
  /** Resume from this cursor (0: the whole history the edge holds). */
  cursor?: number
  /** The `WebSocket` implementation; the platform's by default. */
  WebSocket?: typeof WebSocket
}

/** A subscription to a topic room that reconnects, resumes from its last cursor, and acknowledges what it received. */
export class TopicSubscription {
  /** The frames received, handled in order. */
  private inbox: Promise<void> = Promise.resolve()
  private cursor: number | null
  private acked = 0
  private readonly socket: ReconnectingSocket
  private readonly handler: (message: TopicMessage) => void
  private readonly options: SubscribeOptions

  constructor(
    url: string,
    token: TokenSource | undefined,
    handler: (message: TopicMessage) => void,
    options: SubscribeOptions,
  ) {
    this.handler = handler
    this.options = options
    this.cursor = options.cursor ?? null
    const query = (): Record<string, string> => (this.cursor === null ? {} : { cursor: String(this.cursor) })
    this.socket = new ReconnectingSocket(
      { url, token, query, WebSocket: options.WebSocket },
      {
        opened: () => {},
        // Frames are handled one after another: signatures are checked asynchronously (natively).
        message: (data) => {
          if (typeof data === 'string') return
          this.inbox = this.inbox.then(() => this.receive(new Uint8Array(data))).catch((e) => this.reportError(e))
        },
        closed: (error) => {
          if (error) this.options.onError?.(error)
        },
      },
    )
    this.socket.connect()
  }

  /** Closes the subscription for good. */
  stop(): void {
    this.socket.disconnect(1000, 'unsubscribed')
  }

  private async receive(bytes: Uint8Array): Promise<void> {
    const frame = decodeTopicServerFrame(bytes)
    if (frame.t === TopicFrameType.Gap) this.options.onGap?.(frame.from, frame.oldest)
    if (frame.t === TopicFrameType.Live && this.cursor === null) this.cursor = frame.c
    // A `msg` carries one message, a `msgs` several in cursor order; the ack covers the whole frame.
    const messages = topicMessagesOf(frame)
    // Checked together, handed on in cursor order; one that fails its check is reported, not handed on.
    const checks = await Promise.allSettled(messages.map((m) => validateEnvelopeAsync(m.e)))
    messages.forEach((m, i) => {
      const check = checks[i]
      if (check?.status === 'fulfilled') this.deliver(m.c, m.e)
      else this.reportError(check?.reason)
    })
    if (messages.length > 0 && this.cursor !== null && this.cursor - this.acked >= Limits.topicAckEvery) {
      this.acked = this.cursor
      this.socket.send(encodeTopicFrame({ t: TopicFrameType.Ack, c: this.cursor }))
    }
  }

  private reportError(error: unknown): void {
    this.options.onError?.(error instanceof VivimError ? error : connectionError(String(error)))
  }

  /** Hands one (checked) message to the handler, unless its cursor was already handled. */
  private deliver(cursor: number, e: TopicEnvelope): void {
    if (this.cursor !== null && cursor <= this.cursor) return
    this.cursor = cursor
    this.handler(toMessage(cursor, e))
  }
}

function toMessage(cursor: number, e: TopicEnvelope): TopicMessage {
  return {
    id: messageId(e),
    cursor,
    author: e.author,
    timestamp: e.timestamp,
    payload: e.payload,
    text: () => new TextDecoder().decode(e.payload),
  }
}

/** What the edge answers a publish: the message's id, its cursor in the topic, and whether it had it already. */
export interface PublishResult {
  id: string
  cursor: number
  duplicate: boolean
}

/** Signs `data` as `author` and publishes it; resolves once the edge has stored it. */
export async function publishTopic(
  edgeHttpUrl: string,
  author: Identity,
  topic: string,
  data: Uint8Array | string,
  token?: TokenSource,
): Promise<PublishResult> {
  const payload = typeof data === 'string' ? new TextEncoder().encode(data) : data
  return publishEnvelope(edgeHttpUrl, createEnvelope(author, { topic, payload }), token)
}

/**
 * Publishes an envelope already signed (by this app, or received from elsewhere: its signature
 * is what the edge checks); resolves once the edge has stored it.
 */
export async function publishEnvelope(
  edgeHttpUrl: string,
  envelope: TopicEnvelope,
  token?: TokenSource,
): Promise<PublishResult> {
  const res = await request(
    `${edgeHttpUrl}/v1/topics/${encodeURIComponent(envelope.topic)}`,
    { method: 'POST', body: encodeEnvelope(envelope) as Uint8Array<ArrayBuffer> },
    token,
  )
  return (await res.json()) as PublishResult
}
