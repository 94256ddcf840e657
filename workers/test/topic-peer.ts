/**
 * A topic subscriber and publisher for tests inside workerd, speaking the
 * topic protocol over a `SocketPeer`. Unless told not to (a slow
 * subscriber), it acknowledges as the SDK does (once 50 cursors have arrived
 * since its last ack) and, as a socket publisher must, acknowledges what it
 * has received whenever one of its publishes is answered. Publishers in
 * waves that the publish rate allows: `publishInWaves`.
 */
import {
  decodeTopicServerFrame,
  encodeTopicFrame,
  Limits,
  type TopicBatchItem,
  type TopicEnvelope,
  TopicFrameType,
  type TopicServerFrame,
  topicMessagesOf,
} from '@vivim/shared'
import { binary, openSocket, SocketPeer } from './socket-peer.ts'

/** As `client/src/topic-client.ts`. */
const ACK_EVERY = 50

type Frame<T extends TopicServerFrame['t']> = Extract<TopicServerFrame, { t: T }>

export class TopicPeer extends SocketPeer<TopicServerFrame> {
  private readonly autoAck: boolean
  private lastAck = 0
  private lastSeen = 0
  /** Set once the test closes the socket: frames still on their way are not acknowledged. */
  private closing = false

  private constructor(ws: WebSocket, autoAck: boolean) {
    super(ws, (frame) => decodeTopicServerFrame(binary(frame)))
    this.autoAck = autoAck
  }

  static async connect(
    topic: string,
    options: { cursor?: number; after?: string; token?: string; autoAck?: boolean } = {},
  ): Promise<TopicPeer> {
    const query = new URLSearchParams()
    if (options.cursor !== undefined) query.set('cursor', String(options.cursor))
    if (options.after !== undefined) query.set('after', options.after)
    if (options.token !== undefined) query.set('token', options.token)
    return new TopicPeer(await openSocket(`/v1/topics/${topic}?${query}`), options.autoAck ?? true)
  }

  of<T extends TopicServerFrame['t']>(type: T): Frame<T>[] {
    return this.frames.filter((f): f is Frame<T> => f.t === type)
  }

  /** The messages received, in order, whether they came in `msg` or `msgs` frames. */
  messages(): TopicBatchItem[] {
    return this.frames.flatMap((f) => topicMessagesOf(f))
  }

  /** The frames that carried messages (`msg` and `msgs`). */
  messageFrames(): TopicServerFrame[] {
    return this.frames.filter((f) => topicMessagesOf(f).length > 0)
  }

  /** The payloads of the messages received, as text, in order. */
  texts(): string[] {
    return this.messages().map((m) => new TextDecoder().decode(m.e.payload))
  }

  publish(envelope: TopicEnvelope): void {
    this.send(encodeTopicFrame({ t: TopicFrameType.Publish, e: envelope }))
  }

  /** Publishes each envelope back to back (no wait between them), then waits for an `ok` for each. */
  async publishAll(envelopes: readonly TopicEnvelope[]): Promise<void> {
    const before = this.of(TopicFrameType.Ok).length
    for (const envelope of envelopes) this.publish(envelope)
    await this.until(() => this.of(TopicFrameType.Ok).length === before + envelopes.length)
  }

  ack(cursor: number): void {
    this.lastAck = Math.max(this.lastAck, cursor)
    this.send(encodeTopicFrame({ t: TopicFrameType.Ack, c: cursor }))
  }

  override close(code?: number, reason?: string): void {
    this.closing = true
    super.close(code, reason)
  }

  protected override receive(frame: TopicServerFrame): void {
    const carried = topicMessagesOf(frame)
    for (const m of carried) this.lastSeen = Math.max(this.lastSeen, m.c)
    const batchDone = carried.length > 0 && this.lastSeen - this.lastAck >= ACK_EVERY
    // An answered publish acks what arrived so far; its own message may come after the `ok`.
    const answered = frame.t === TopicFrameType.Ok || frame.t === TopicFrameType.Error
    if (this.autoAck && !this.closing && (batchDone || (answered && this.lastSeen > this.lastAck)))
      this.ack(this.lastSeen)
  }
}

/**
 * Publishes in waves until `done()`: each wave a new socket publishing a burst the publish rate
 * allows (`envelope` of `<wave>-<n>`), answered in full; after a wave that was refused (a reader
 * far behind) it waits a second. Resolves with how many messages were accepted.
 */
export async function publishInWaves(
  topic: string,
  envelope: (item: string) => TopicEnvelope,
  done: () => boolean,
): Promise<number> {
  let accepted = 0
  for (let wave = 0; !done(); wave++) {
    const publisher = await TopicPeer.connect(topic)
    const items = Array.from({ length: Limits.topicPublishBurst }, (_, n) => `${wave}-${n}`)
    for (const item of items) publisher.publish(envelope(item))
    const answered = () => publisher.of(TopicFrameType.Ok).length + publisher.of(TopicFrameType.Error).length
    await publisher.until(() => answered() === items.length)
    accepted += publisher.of(TopicFrameType.Ok).length
    const waited = publisher.of(TopicFrameType.Error).length > 0
    publisher.close()
    if (waited) await new Promise((resolve) => setTimeout(resolve, 1_000))
  }
  return accepted
}
