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
 * reader forward never count against its frame rate. The rules a reader is
 * held to are `topic-reader-room.ts`, shared with the fan-out objects.
 *
 * Big topics: past `readersPerObject` readers of its own, the room passes
 * new subscribers to fan-out objects (`topic-fanout.ts`), sends them each
 * flush and serves their replays and publishes over RPC (`readHistory`,
 * `relayPublish`), still verifying and storing every message once. Why and
 * how: `topic-fanouts.ts`.
 */

import {
  decodeEnvelope,
  type EncodedMessage,
  ErrorCode,
  encodeTopicFrame,
  type Settled,
  settle,
  type TopicEnvelope,
  TopicFrameType,
  VivimError,
  validateEnvelopeAsync,
} from '@vivim/shared'
import { edgeEvents } from '../extensions/events.ts'
import type { Access } from '../http/access.ts'
import { type Handover, HandoverJournal } from './handover-journal.ts'
import { isUpgrade, type RoomRequest, readRoomRequest } from './room-headers.ts'
import { answerRefusing } from './socket-host.ts'
import { PEER_ACCESS } from './socket-state.ts'
import { batchFrames, flushWindowMs, MAX_PENDING_MESSAGES, type PendingMessage } from './topic-batch.ts'
import { type FanoutStatus, readersPerObject, TopicFanouts } from './topic-fanouts.ts'
import { httpPublisherKey } from './topic-publishers.ts'
import { type PublishResult, READERS_BEHIND, TopicReaderRoom } from './topic-reader-room.ts'
import { type HistoryPage, retentionOf, type TopicRetention, TopicStore } from './topic-store.ts'

/** Envelope bytes in one page of history a fan-out object reads for a replay. */
const HISTORY_PAGE_BYTES = 4 * 1024 * 1024

interface Published extends PublishResult {
  /** Settles once federation's outboxes hold the message: the publisher is answered only then. */
  readonly handedOn: Promise<void>
}

export class TopicRoom extends TopicReaderRoom {
  protected readonly kind = 'topic room'
  private readonly store: TopicStore
  private readonly retention: TopicRetention
  /** The publish whose turn it is last: the next one is stored after it (`publish`). */
  private turn: Promise<unknown> = Promise.resolve()
  /** Stored messages the next flush sends, in cursor order. */
  private pending: PendingMessage[] = []
  private flushTimer: ReturnType<typeof setTimeout> | null = null
  /** When the first pending message was stored. */
  private pendingSince = 0
  private lastFlushAt = Number.NEGATIVE_INFINITY
  /** The flush window for the readers counted at the last flush (counting them costs a call per socket). */
  private window = flushWindowMs(0)
  private readonly fanouts: TopicFanouts
  private readonly readersPerObject: number
  private readonly journal: HandoverJournal

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    this.store = new TopicStore(ctx.storage)
    this.retention = retentionOf(env)
    this.fanouts = new TopicFanouts(ctx, this.env, () => this.store.topic() ?? '')
    this.readersPerObject = readersPerObject(env)
    this.journal = new HandoverJournal(ctx, ({ bytes, origin }) =>
      edgeEvents.topicMessageStored(env, { envelope: decodeEnvelope(bytes), origin }),
    )
  }

  /**
   * Past `readersPerObject` readers here, a new reader goes to a fan-out object
   * (`topic-fanouts.ts`), after the same checks and flush as one of the room's own, and with its
   * replay fixed now.
   */
  override fetch(request: Request): Promise<Response> {
    if (!isUpgrade(request) || this.sockets.sockets().length < this.readersPerObject) return super.fetch(request)
    return answerRefusing(request, async () => {
      const room = readRoomRequest(request)
      // A write-only socket reads nothing: it stays, with the other publishers.
      if (!room.access.canRead) return super.fetch(request)
      this.onUpgrade(room)
      this.flush()
      const plan = this.store.replayPlan(room.resume)
      return this.fanouts.handOff(room.name, room.access, plan, this.readersPerObject)
    })
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
  remotePublish(topic: string, envelope: Uint8Array, origin: string | null = null): Promise<Settled<PublishResult>> {
    return settle(() => this.publishBytes(this.store.bindTopic(topic), PEER_ACCESS, envelope, origin))
  }

  /** The encoded envelopes the room keeps, oldest first (what a replay from cursor 0 sends). */
  history(topic: string): Uint8Array[] {
    this.store.bindTopic(topic)
    return this.store.after(0).map((m) => m.envelope)
  }

  /** A page of the stored messages after `after` up to `upTo`, for a fan-out object. */
  readHistory(topic: string, after: number, upTo: number): HistoryPage {
    this.store.bindTopic(topic)
    return this.store.page(after, upTo, HISTORY_PAGE_BYTES)
  }

  /**
   * A fan-out object's socket publishes (its grant and rate were checked there): refused while a
   * reader anywhere is far behind, as on the room's own sockets; answered once stored and handed on.
   */
  relayPublish(topic: string, envelope: Uint8Array): Promise<Settled<PublishResult>> {
    return settle(() => {
      if (this.holdsBack(Date.now())) throw new VivimError(ErrorCode.RateLimited, READERS_BEHIND)
      return this.publishFrom(decodeEnvelope(envelope), envelope, this.store.topic() ?? this.store.bindTopic(topic))
    })
  }

  /** Fan-out object `k` says whether one of its readers holds publishes back (when that changes). */
  fanoutStatus(k: number, status: FanoutStatus): void {
    this.fanouts.reported(k, status, Date.now())
  }

  /** Closes the sockets admitted on these tokens here and on every fan-out object. */
  override revoke(ids: string[]): number {
    this.fanouts.revoke(ids)
    return super.revoke(ids)
  }

  protected override latest(): number {
    return this.store.latest
  }

  protected override holdsBack(now: number): boolean {
    return this.flows.holdsBack(now) || this.fanouts.holdsBack(now)
  }

  /** Stores a message and answers once it is handed on; `origin` is the peer it came from, if any. */
  protected override async publishFrom(
    envelope: TopicEnvelope,
    encoded: Uint8Array,
    topic = this.store.topic() ?? '',
    origin: string | null = null,
  ): Promise<PublishResult> {
    const { handedOn, ...result } = await this.publish(topic, envelope, encoded, origin)
    await handedOn
    return result
  }

  /** `origin` is the peer instance the message came from, which is not sent it back. */
  private async publishBytes(
    topic: string,
    access: Access,
    body: Uint8Array,
    origin: string | null = null,
  ): Promise<PublishResult> {
    if (!access.canWrite) throw new VivimError(ErrorCode.Forbidden, 'this credential may not publish here')
    const key = httpPublisherKey(access, this.env)
    if (key !== null) {
      const refusal = this.holdsBack(Date.now()) ? READERS_BEHIND : this.publishers.admitHttp(key)
      if (refusal !== null) throw new VivimError(ErrorCode.RateLimited, refusal)
    }
    return this.publishFrom(decodeEnvelope(body), body, topic, origin)
  }

  /**
   * Checks the signature natively (asynchronously, so many can be in flight at once), then stores
   * and queues the message; a known message id is acknowledged and not sent again. Messages take
   * their turn in the order they arrived: a check that finishes early waits for the ones before
   * it, so each publisher's messages keep their order. `encoded` is `encodeEnvelope(envelope)`.
   */
  private publish(
    topic: string,
    envelope: TopicEnvelope,
    encoded: Uint8Array,
    origin: string | null = null,
  ): Promise<Published> {
    const verified = validateEnvelopeAsync(envelope, { topic, now: Date.now(), maxAgeMs: this.retention.maxAgeMs })
    verified.catch(() => {}) // handled where its turn comes
    const stored = this.turn.then(() => verified).then((id) => this.storeChecked(envelope, id, encoded, origin))
    this.turn = stored.catch(() => {})
    return stored
  }

  /** Stores a checked message and queues it for the next flush; a known message id is not sent again. */
  private storeChecked(envelope: TopicEnvelope, id: string, encoded: Uint8Array, origin: string | null): Published {
    const now = Date.now()
    const { cursor, duplicate } = this.store.append(id, envelope.timestamp, encoded, this.retention, now)
    if (duplicate) return { id, cursor, duplicate, handedOn: Promise.resolve() }
    if (this.pending.length === 0) this.pendingSince = now
    this.pending.push({ c: cursor, envelope: encoded })
    this.scheduleFlush(now)
    return { id, cursor, duplicate, handedOn: this.handOver(envelope, encoded, origin) }
  }

  /** Hands a stored message on (`handover-journal.ts`); a failure is answered `connection_failed`, not `ok`. */
  private handOver(envelope: TopicEnvelope, encoded: Uint8Array, origin: string | null): Promise<void> {
    const refused = (error: unknown) => {
      throw new VivimError(ErrorCode.ConnectionFailed, `stored, not yet handed on: ${(error as Error).message}`)
    }
    if (!edgeEvents.journals(this.env))
      return edgeEvents.topicMessageStored(this.env, { envelope, origin }).catch(refused)
    const handover: Handover = { kind: 'topicMessageStored', name: envelope.topic, bytes: encoded, origin }
    return this.journal.deliver(this.journal.record(handover), handover).catch(refused)
  }

  protected override onAlarm(): Promise<void> {
    return this.journal.retry()
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

  /** Sends every pending message to every reader but `except`, each frame encoded once, and to every fan-out object. */
  private flush(except: WebSocket | null = null): void {
    if (this.flushTimer !== null) clearTimeout(this.flushTimer)
    this.flushTimer = null
    if (this.pending.length === 0) return
    const now = Date.now()
    this.lastFlushAt = now
    this.store.prune(this.retention, now)
    const messages = this.pending
    this.pending = []
    const readers = this.sockets.sockets()
    this.window = flushWindowMs(readers.length)
    const frames = batchFrames(messages)
    this.fanOut(readers, frames, now, except)
    this.fanouts.deliver(frames, now)
  }

  /** Sends what a resuming subscriber missed, in order, then `live`; says so when its point is gone. */
  private replay(ws: WebSocket, resume: string | null): void {
    const plan = this.store.replayPlan(resume)
    const missed: EncodedMessage[] = this.store.after(plan.from).map((m) => ({ c: m.cursor, envelope: m.envelope }))
    this.replayTo(ws, plan, missed)
    this.goLive(ws, plan)
  }
}
