/**
 * One edge topic room, as the bridge subscribes to it
 * (`/v1/topics/<topic>`, `shared/src/topic-protocol.ts`): messages in, with
 * acknowledgements so the room's flow control never drops the bridge as too
 * slow, and publishes out. It resumes after its last cursor when it
 * reconnects, so a short outage loses nothing the room still holds; a bridge
 * with a data directory starts from the cursor its last run handled
 * (`topic-journal.ts`), so a restart loses nothing either.
 *
 * A publish stays unanswered until the room's `ok` for its message id: it
 * is sent at once when the socket is open, and again on each reconnect
 * (the room drops a copy it already stored and answers `ok` with `dup`).
 * With a data directory it is journaled too, and a restart sends it again.
 * The room's `err` does not name the message it refuses, so a message is
 * given up after it went out on `MAX_SENDS` connections without an `ok`,
 * and the oldest are dropped past `maxQueued`.
 *
 * @example
 * ```ts
 * const room = new EdgeTopic({ credentials }, { topic: 'public:news', onEnvelope: (e, c) => forward(e, c) })
 * room.start()
 * room.publish(envelope)
 * ```
 */
import {
  decodeTopicServerFrame,
  encodeTopicFrame,
  messageId,
  type TopicEnvelope,
  TopicFrameType,
  type TopicServerFrame,
  topicMessagesOf,
} from '@vivim/shared'
import type { EdgeCredentials } from './edge-credentials.ts'
import { EdgeSocket } from './edge-socket.ts'
import { type Logger, silentLogger } from './log.ts'
import type { TopicJournal } from './topic-journal.ts'

/** What an edge topic is given from outside. */
export interface EdgeTopicComponents {
  credentials: EdgeCredentials
  /** Where the room's resume cursor and unanswered publishes outlive the process; none keeps them in memory. */
  journal?: TopicJournal
  log?: Logger
}

/** The topic, and where its messages go. */
export interface EdgeTopicInit {
  topic: string
  /** Each message the room sends, in cursor order, the bridge's own echoes included. */
  onEnvelope: (envelope: TopicEnvelope, cursor: number) => void
  /** The room's `live`: every message up to `cursor` has been sent. */
  onLive?: (cursor: number) => void
  /** Most publishes kept until the room answers; the oldest are dropped past it. */
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
/** A publish that went out on this many connections without an `ok` is given up (the room refused it). */
const MAX_SENDS = 3

/** A publish on its way: its place in the journal and how many connections it went out on. */
interface Unanswered {
  readonly envelope: TopicEnvelope
  readonly seq: number
  sends: number
}

/** One topic room at the edge: subscribes, resumes from its last cursor after a drop, acknowledges, and keeps each publish until the room answers `ok`. */
export class EdgeTopic {
  readonly topic: string
  private readonly socket: EdgeSocket
  private readonly init: EdgeTopicInit
  private readonly log: Logger
  private readonly journal: TopicJournal | null
  /** Publishes the room has not answered `ok` to, by message id, oldest first. */
  private readonly unanswered = new Map<string, Unanswered>()
  private cursor: number | null
  private unacked = 0
  private ackTimer: NodeJS.Timeout | null = null

  constructor(components: EdgeTopicComponents, init: EdgeTopicInit) {
    this.topic = init.topic
    this.init = init
    this.log = components.log ?? silentLogger
    this.journal = components.journal ?? null
    this.cursor = this.journal?.cursor(init.topic) ?? null
    for (const { envelope, seq } of this.journal?.outbox(init.topic) ?? []) {
      this.unanswered.set(messageId(envelope), { envelope, seq, sends: 0 })
    }
    this.socket = new EdgeSocket({
      name: `topic:${init.topic}`,
      url: () =>
        components.credentials.socketUrl(
          `/v1/topics/${encodeURIComponent(init.topic)}`,
          `topic:${init.topic}`,
          // A first connect starts live (or after the last run's cursor); a reconnect resumes after the last message seen.
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

  /** Publishes unanswered, waiting for the room's `ok`. */
  get waiting(): number {
    return this.unanswered.size
  }

  /** Publishes a signed envelope to the room, now or when the room is reachable again, until it answers `ok`. */
  publish(envelope: TopicEnvelope, id: string = messageId(envelope)): void {
    if (this.unanswered.has(id)) return
    const entry: Unanswered = { envelope, seq: this.journal?.keep(this.topic, envelope) ?? 0, sends: 0 }
    this.unanswered.set(id, entry)
    if (this.unanswered.size > (this.init.maxQueued ?? 1_000)) {
      const [oldest] = this.unanswered.keys()
      this.giveUp(oldest as string, 'too many publishes waiting for the room')
    }
    this.send(entry)
  }

  /** Closes the socket for good. */
  async stop(): Promise<void> {
    if (this.ackTimer) clearTimeout(this.ackTimer)
    await this.socket.stop()
  }

  private send(entry: Unanswered): boolean {
    if (!this.socket.send(encodeTopicFrame({ t: TopicFrameType.Publish, e: entry.envelope }))) return false
    entry.sends++
    return true
  }

  /** On each connect: every unanswered publish once more, oldest first. */
  private flush(): void {
    for (const [id, entry] of [...this.unanswered]) {
      if (entry.sends >= MAX_SENDS) this.giveUp(id, `no ok after ${MAX_SENDS} connections`)
      else if (!this.send(entry)) return
    }
  }

  private answered(id: string): void {
    const entry = this.unanswered.get(id)
    if (!entry) return
    this.unanswered.delete(id)
    this.journal?.forget(this.topic, entry.seq)
  }

  private giveUp(id: string, why: string): void {
    this.answered(id)
    this.log.warn('publish to the edge given up', { topic: this.topic, id, why })
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
          this.init.onEnvelope(m.e, m.c)
        }
        this.ack(messages.length)
        return
      }
      case TopicFrameType.Live:
        if (this.cursor === null || frame.c > this.cursor) this.cursor = frame.c
        this.init.onLive?.(frame.c)
        return
      case TopicFrameType.Error:
        this.log.warn('edge refused a publish', { topic: this.topic, code: frame.code, message: frame.message })
        return
      case TopicFrameType.Gap:
        this.log.warn('edge topic history gap', { topic: this.topic, from: frame.from, oldest: frame.oldest })
        return
      case TopicFrameType.Ok:
        this.answered(frame.id)
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
