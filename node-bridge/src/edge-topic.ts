/**
 * One edge topic room, as the bridge subscribes to it
 * (`/v1/topics/<topic>`, `shared/src/topic-protocol.ts`): messages in, with
 * acknowledgements so the room's flow control never drops the bridge as too
 * slow, and publishes out. It resumes after its last cursor when it
 * reconnects, so a short outage loses nothing the room still holds.
 * Publishes made while it is down wait in a bounded queue.
 *
 * @example
 * ```ts
 * const room = new EdgeTopic({ credentials }, { topic: 'public:news', onEnvelope: (e) => forward(e) })
 * room.start()
 * room.publish(envelope)
 * ```
 */
import {
  decodeTopicServerFrame,
  encodeTopicFrame,
  type TopicEnvelope,
  TopicFrameType,
  type TopicServerFrame,
  topicMessagesOf,
} from '@vivim/shared'
import type { EdgeCredentials } from './edge-credentials.ts'
import { EdgeSocket } from './edge-socket.ts'
import { type Logger, silentLogger } from './log.ts'

/** What an edge topic is given from outside. */
export interface EdgeTopicComponents {
  credentials: EdgeCredentials
  log?: Logger
}

/** The topic, and where its messages go. */
export interface EdgeTopicInit {
  topic: string
  /** Each message the room sends, the bridge's own echoes included. */
  onEnvelope: (envelope: TopicEnvelope) => void
  /** Most publishes kept while the room is unreachable; the oldest are dropped past it. */
  maxQueued?: number
  initialDelayMs?: number
  maxDelayMs?: number
}

/**
 * Acknowledge after this many messages or this long, whichever comes first. Acks that advance cost
 * nothing against the frame rate, and a room refuses every publish while a reader lags far behind
 * (`Limits.maxTopicReaderLag`), so the bridge keeps up.
 */
const ACK_EVERY = 25
const ACK_AFTER_MS = 50

/** One topic room at the edge: subscribes, resumes from its last cursor after a drop, acknowledges, and queues publishes while the room is unreachable. */
export class EdgeTopic {
  readonly topic: string
  private readonly socket: EdgeSocket
  private readonly init: EdgeTopicInit
  private readonly log: Logger
  private readonly queue: TopicEnvelope[] = []
  private cursor: number | null = null
  private unacked = 0
  private ackTimer: NodeJS.Timeout | null = null

  constructor(components: EdgeTopicComponents, init: EdgeTopicInit) {
    this.topic = init.topic
    this.init = init
    this.log = components.log ?? silentLogger
    this.socket = new EdgeSocket({
      name: `topic:${init.topic}`,
      url: () =>
        components.credentials.socketUrl(
          `/v1/topics/${encodeURIComponent(init.topic)}`,
          `topic:${init.topic}`,
          // A first connect starts live; a reconnect resumes after the last message seen.
          this.cursor === null ? {} : { cursor: String(this.cursor) },
        ),
      onOpen: () => this.flush(),
      onFrame: (bytes) => this.receive(bytes),
      ...(init.initialDelayMs !== undefined ? { initialDelayMs: init.initialDelayMs } : {}),
      ...(init.maxDelayMs !== undefined ? { maxDelayMs: init.maxDelayMs } : {}),
      log: this.log,
    })
  }

  /** Whether the socket is open. */
  get open(): boolean {
    return this.socket.state === 'open'
  }

  /** Connects, and reconnects after every drop. */
  start(): void {
    this.socket.start()
  }

  /** Publishes a signed envelope to the room, now or when the room is reachable again. */
  publish(envelope: TopicEnvelope): void {
    if (this.socket.send(encodeTopicFrame({ t: TopicFrameType.Publish, e: envelope }))) return
    this.queue.push(envelope)
    if (this.queue.length > (this.init.maxQueued ?? 1_000)) this.queue.shift()
  }

  /** Closes the socket for good. */
  async stop(): Promise<void> {
    if (this.ackTimer) clearTimeout(this.ackTimer)
    await this.socket.stop()
  }

  private flush(): void {
    while (this.queue.length > 0) {
      const envelope = this.queue[0] as TopicEnvelope
      if (!this.socket.send(encodeTopicFrame({ t: TopicFrameType.Publish, e: envelope }))) return
      this.queue.shift()
    }
  }

  private receive(bytes: Uint8Array): void {
    let frame: TopicServerFrame
    try {
      frame = decodeTopicServerFrame(bytes)
    } catch (error) {
      this.log.warn('topic frame refused', { topic: this.topic, error: (error as Error).message })
      return
    }
    switch (frame.t) {
      case TopicFrameType.Message:
      case TopicFrameType.Messages: {
        // `msgs` carries several messages in cursor order; each counts towards the next ack.
        const messages = topicMessagesOf(frame)
        for (const m of messages) {
          this.cursor = m.c
          this.init.onEnvelope(m.e)
        }
        this.ack(messages.length)
        return
      }
      case TopicFrameType.Live:
        if (this.cursor === null || frame.c > this.cursor) this.cursor = frame.c
        return
      case TopicFrameType.Error:
        this.log.warn('edge refused a publish', { topic: this.topic, code: frame.code, message: frame.message })
        return
      case TopicFrameType.Gap:
        this.log.warn('edge topic history gap', { topic: this.topic, from: frame.from, oldest: frame.oldest })
        return
      case TopicFrameType.Ok:
        return
    }
  }

  private ack(messages: number): void {
    this.unacked += messages
    if (this.unacked >= ACK_EVERY) this.sendAck()
    else this.ackTimer ??= setTimeout(() => this.sendAck(), ACK_AFTER_MS)
  }

  private sendAck(): void {
    if (this.ackTimer) clearTimeout(this.ackTimer)
    this.ackTimer = null
    if (this.cursor !== null && this.socket.send(encodeTopicFrame({ t: TopicFrameType.Ack, c: this.cursor }))) {
      this.unacked = 0
    }
  }
}
