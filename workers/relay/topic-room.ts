/**
 * `TopicRoom`, one Durable Object per pubsub topic (the seed's Topic Manager
 * at the edge). It verifies every signed message, drops duplicates by
 * message id (what stops loops once the bridge and federation forward
 * messages between networks), stores a bounded history in SQLite before
 * fanning a message out, and lets a subscriber that reconnects resume from
 * its last cursor or message id. Protocol: `shared/src/topic-protocol.ts`.
 *
 * Fan-out is batched (`topic-batch.ts`): a message is stored at once, then
 * waits for the room's next flush, which sends everything stored since the
 * last one to every reader as one frame, encoded once. The first message
 * after an idle spell is flushed at once; while the room is busy, messages
 * gather for a window that grows with the readers (`flushWindowMs`), and
 * those queued while a flush is being sent join the next one, so under load
 * each reader gets one frame per flush instead of one per message. A
 * publisher's `ok` says its message is stored, so it may arrive before the
 * frame that carries it.
 *
 * Back-pressure is explicit: subscribers acknowledge cursors, and one that
 * falls `Limits.maxTopicUnacked` messages behind is dropped with 4430,
 * because the runtime offers no view of a socket's send buffer and a room
 * must not hold unbounded memory for a reader that cannot keep up. So that
 * no publisher can push the others there, every publish waits while a reader
 * that still acknowledges is far behind (`topic-flows.ts`), each publisher
 * has a rate (`topic-publishers.ts`), and acknowledgements that move a
 * reader forward never count against its frame rate.
 */

import {
  CloseCode,
  decodeEnvelope,
  decodeTopicClientFrame,
  ErrorCode,
  encodeMessageFrame,
  encodeTopicFrame,
  Limits,
  publishedEnvelopeBytes,
  type Settled,
  settle,
  type TopicClientFrame,
  type TopicEnvelope,
  TopicFrameType,
  VivimError,
  validateEnvelopeAsync,
} from '@vivim/shared'
import { edgeEvents } from '../extensions/events.ts'
import type { Access } from '../http/access.ts'
import { Room } from './room.ts'
import type { RoomRequest } from './room-headers.ts'
import { socketState } from './socket-state.ts'
import {
  type BatchFrame,
  batchFrames,
  flushWindowMs,
  MAX_PENDING_MESSAGES,
  type PendingMessage,
} from './topic-batch.ts'
import { TopicFlows } from './topic-flows.ts'
import { httpPublisherKey, TopicPublishers } from './topic-publishers.ts'
import { retentionOf, type TopicRetention, TopicStore } from './topic-store.ts'

/** Why a publish waits when a reader is far behind (`TopicFlows.holdsBack`). */
const READERS_BEHIND = `a reader of this topic is ${Limits.maxTopicReaderLag} messages behind; publish again shortly`

/** The canonical encoding of `{ t: "ack", c }` is at most 18 bytes (a 9-byte cursor). */
const MAX_ACK_BYTES = 24

export interface PublishResult {
  readonly id: string
  readonly cursor: number
  readonly duplicate: boolean
}

/** Federation publishes as a DID-less credential that may write would. */
const REMOTE_PUBLISHER: Access = { did: null, canRead: true, canWrite: true, exp: null, tokens: [], newOwner: null }

interface Published extends PublishResult {
  /** Settles once federation's outboxes hold the message: the publisher is answered only then. */
  readonly handedOn: Promise<void>
}

export class TopicRoom extends Room<TopicClientFrame> {
  protected readonly kind = 'topic room'
  protected readonly frameName = 'topic frame'
  private readonly store: TopicStore
  private readonly retention: TopicRetention
  private readonly flows = new TopicFlows()
  /** The publish whose turn it is last: the next one is stored after it (`publish`). */
  private turn: Promise<unknown> = Promise.resolve()
  private readonly publishers = new TopicPublishers()
  /** Stored messages the next flush sends, in cursor order. */
  private pending: PendingMessage[] = []
  private flushTimer: ReturnType<typeof setTimeout> | null = null
  /** When the first pending message was stored. */
  private pendingSince = 0
  private lastFlushAt = Number.NEGATIVE_INFINITY
  /** The flush window for the readers counted at the last flush (counting them costs a call per socket). */
  private window = flushWindowMs(0)

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    this.store = new TopicStore(ctx.storage)
    this.retention = retentionOf(env)
  }

  protected override onUpgrade({ name, access }: RoomRequest): void {
    this.claim(access, 'topic')
    this.store.bindTopic(name)
  }

  protected override onConnect(ws: WebSocket, { access, resume }: RoomRequest): void {
    // What is stored but not yet sent goes to the others now; the newcomer reads it from storage.
    this.flush(ws)
    // A write-only grant publishes without reading: it learns only where the topic is.
    if (access.canRead) this.replay(ws, resume)
    else this.sockets.send(ws, encodeTopicFrame({ t: TopicFrameType.Live, c: this.store.latest }))
  }

  /** An HTTP publish: the body is the envelope's canonical encoding (the decoder accepts nothing else), stored as is. */
  protected override async onRequest({ name, access }: RoomRequest, request: Request): Promise<Response> {
    this.claim(access, 'topic')
    const topic = this.store.bindTopic(name)
    return Response.json(await this.publishBytes(topic, access, new Uint8Array(await request.arrayBuffer())))
  }

  /**
   * Another part of the edge (federation) publishes a message it received:
   * the checks and the answer of an HTTP publish without a DID (signature,
   * topic, age, readers far behind), stored and handed on before it answers.
   */
  remotePublish(topic: string, envelope: Uint8Array): Promise<Settled<PublishResult>> {
    return settle(() => this.publishBytes(this.store.bindTopic(topic), REMOTE_PUBLISHER, envelope))
  }

  /** The encoded envelopes the room keeps, oldest first (what a replay from cursor 0 sends). */
  history(topic: string): Uint8Array[] {
    this.store.bindTopic(topic)
    return this.store.after(0).map((m) => m.envelope)
  }

  private async publishBytes(topic: string, access: Access, body: Uint8Array): Promise<PublishResult> {
    if (!access.canWrite) throw new VivimError(ErrorCode.Forbidden, 'this credential may not publish here')
    const key = httpPublisherKey(access, this.env)
    if (key !== null) {
      const refusal = this.flows.holdsBack(Date.now()) ? READERS_BEHIND : this.publishers.admitHttp(key)
      if (refusal !== null) throw new VivimError(ErrorCode.RateLimited, refusal)
    }
    const { handedOn, ...result } = await this.publish(topic, decodeEnvelope(body), body)
    await handedOn
    return result
  }

  protected override decode(bytes: Uint8Array): TopicClientFrame {
    return decodeTopicClientFrame(bytes)
  }

  /** Only an ack may be free, so anything longer than the longest ack pays before it is decoded. */
  protected override mayBeFree(bytes: Uint8Array): boolean {
    return bytes.byteLength <= MAX_ACK_BYTES
  }

  /**
   * An ack that moves the socket's acknowledged cursor forward is free, so a
   * reader that acknowledges every message of a busy topic is never closed
   * for it. An ack that moves nothing counts like any frame, so ack spam
   * stays bounded.
   */
  protected override isFree(ws: WebSocket, frame: TopicClientFrame): boolean {
    return frame.t === TopicFrameType.Ack && this.flows.advances(ws, frame.c, this.store.latest)
  }

  protected override onFrame(ws: WebSocket, frame: TopicClientFrame, bytes: Uint8Array): void {
    if (frame.t === TopicFrameType.Ack) {
      this.flows.ack(ws, frame.c, this.store.latest, Date.now())
      return
    }
    try {
      if (!socketState(ws).canWrite) throw new VivimError(ErrorCode.Forbidden, 'this credential may not publish here')
      const refusal = this.flows.holdsBack(Date.now()) ? READERS_BEHIND : this.publishers.admitSocket(ws)
      if (refusal !== null) {
        if (!this.publishers.refused(ws)) {
          this.sockets.reject(ws, CloseCode.RateLimited, 'kept publishing past its publish rate')
          return
        }
        throw new VivimError(ErrorCode.RateLimited, refusal)
      }
      // The envelope's bytes are cut from the frame, not encoded again (`topic-encoded.ts`).
      this.publish(this.store.topic() ?? '', frame.e, publishedEnvelopeBytes(bytes)).then(
        (result) => {
          const ok = encodeTopicFrame({ t: TopicFrameType.Ok, id: result.id, c: result.cursor, dup: result.duplicate })
          void result.handedOn.then(() => this.sockets.send(ws, ok))
        },
        (error) => this.sendError(ws, error),
      )
    } catch (error) {
      this.sendError(ws, error)
    }
  }

  private sendError(ws: WebSocket, error: unknown): void {
    if (!(error instanceof VivimError)) throw error
    this.sockets.send(ws, encodeTopicFrame({ t: TopicFrameType.Error, code: error.code, message: error.message }))
  }

  /**
   * Checks the signature natively (asynchronously, so many can be in flight at once), then stores
   * and queues the message; a known message id is acknowledged and not sent again. Messages take
   * their turn in the order they arrived: a check that finishes early waits for the ones before
   * it, so each publisher's messages keep their order. `encoded` is `encodeEnvelope(envelope)`.
   */
  private publish(topic: string, envelope: TopicEnvelope, encoded: Uint8Array): Promise<Published> {
    const verified = validateEnvelopeAsync(envelope, { topic, now: Date.now(), maxAgeMs: this.retention.maxAgeMs })
    verified.catch(() => {}) // handled where its turn comes
    const stored = this.turn.then(() => verified).then((id) => this.storeChecked(envelope, id, encoded))
    this.turn = stored.catch(() => {})
    return stored
  }

  /** Stores a checked message and queues it for the next flush; a known message id is not sent again. */
  private storeChecked(envelope: TopicEnvelope, id: string, encoded: Uint8Array): Published {
    const now = Date.now()
    const { cursor, duplicate } = this.store.append(id, envelope.timestamp, encoded, this.retention, now)
    if (duplicate) return { id, cursor, duplicate, handedOn: Promise.resolve() }
    if (this.pending.length === 0) this.pendingSince = now
    this.pending.push({ c: cursor, envelope: encoded })
    this.scheduleFlush(now)
    return { id, cursor, duplicate, handedOn: edgeEvents.topicMessageStored(this.env, { envelope }) }
  }

  /**
   * Flushes now when the window has passed since the first message waiting or too many wait;
   * otherwise a timer flushes at once after an idle spell (no flush for a window) and at the end
   * of the window since the last flush when the room is busy.
   */
  private scheduleFlush(now: number): void {
    const window = this.window
    if (now - this.pendingSince >= window || this.pending.length >= MAX_PENDING_MESSAGES) {
      this.flush()
      return
    }
    if (this.flushTimer !== null) return
    const sinceFlush = now - this.lastFlushAt
    this.flushTimer = setTimeout(() => this.flush(), sinceFlush >= window ? 0 : window - sinceFlush)
  }

  /** Sends every pending message to every reader but `except`, each frame encoded once. */
  private flush(except: WebSocket | null = null): void {
    if (this.flushTimer !== null) clearTimeout(this.flushTimer)
    this.flushTimer = null
    if (this.pending.length === 0) return
    const now = Date.now()
    this.lastFlushAt = now
    this.store.prune(this.retention, now)
    const frames = batchFrames(this.pending)
    this.pending = []
    const readers = this.sockets.sockets()
    this.window = flushWindowMs(readers.length)
    for (const batch of frames) this.fanOut(readers, batch, now, except)
  }

  /** Sends what a resuming subscriber missed, in order, then `live`; says so when its point is gone. */
  private replay(ws: WebSocket, resume: string | null): void {
    const latest = this.store.latest
    let from = latest
    if (resume?.startsWith('cursor:')) from = Number(resume.slice('cursor:'.length))
    if (resume?.startsWith('after:')) from = this.store.cursorOf(resume.slice('after:'.length)) ?? -1
    const oldest = this.store.oldest() ?? latest + 1
    const lost = from === -1 || from > latest || (from !== 0 && from < oldest - 1)
    if (lost) {
      this.sockets.send(ws, encodeTopicFrame({ t: TopicFrameType.Gap, from: Math.max(from, 0), oldest }))
      from = oldest - 1
    }
    for (const m of this.store.after(from))
      this.sockets.send(ws, encodeMessageFrame({ c: m.cursor, envelope: m.envelope }))
    this.flows.start(ws, latest, Math.max(from, 0), Date.now())
    this.sockets.send(ws, encodeTopicFrame({ t: TopicFrameType.Live, c: latest }))
  }

  /**
   * Sends one frame carrying cursors `first` to `last` to every reader. Back-pressure counts
   * messages, not frames: a reader the frame would leave more than `Limits.maxTopicUnacked`
   * messages unacknowledged is closed instead.
   */
  private fanOut(readers: readonly WebSocket[], batch: BatchFrame, now: number, except: WebSocket | null): void {
    const { first, last, frame } = batch
    for (const ws of readers) {
      if (ws === except || !this.sockets.serves(ws)) continue
      const flow = this.flows.get(ws, first - 1)
      if (last - flow.acked > Limits.maxTopicUnacked) {
        this.sockets.reject(ws, CloseCode.TooSlow, `more than ${Limits.maxTopicUnacked} messages unacknowledged`)
        continue
      }
      this.sockets.send(ws, frame)
      this.flows.sent(ws, last, now)
    }
  }

  /** A socket is gone or refused: it no longer holds publishers back. */
  protected override onLeave(ws: WebSocket): void {
    this.flows.forget(ws)
  }
}
