/**
 * `TopicFanout`, one of a big topic's fan-out objects (`<topic>#<k>`): it
 * serves the subscribers the topic's room passed on once it served its own
 * share (`topic-fanouts.ts` says when and why), and holds them to the same
 * rules as the room's own readers (`topic-reader-room.ts`). It stores no
 * message: the room verifies, deduplicates and stores each one once.
 *
 *   deliveries     the room calls `deliver` with the frames of each flush,
 *                  encoded once there, as soon as it flushes; they go to
 *                  every live reader as they are, in the order the calls
 *                  came, so a reader here gets the very frames a reader of
 *                  the room gets.
 *   replay         the room fixes a subscriber's replay when it passes it on
 *                  (right after a flush, as for one of its own): `gap`, then
 *                  the history read from the room's store in pages
 *                  (`readHistory`), then `live`; deliveries that arrive
 *                  meanwhile are kept (`topic-fanout-replays.ts`) and sent
 *                  after `live`, past the replay's latest cursor.
 *   gaps           when a delivery starts past what a live reader has (the
 *                  room dropped what it could not hold, or a delivery
 *                  failed), the missing messages are read from the store
 *                  first; a reader whose messages the store no longer holds
 *                  is closed with 4430 and resumes from its cursor.
 *   publishes      a socket's grant and rate are checked here, then the room
 *                  stores the message (`relayPublish`), refusing it while a
 *                  reader anywhere is far behind; the `ok` or `err` comes back
 *                  here.
 *   back-pressure  acks and 4430 per reader here; whether one of its readers
 *                  holds publishes back goes to the room in every delivery's
 *                  answer and, when it changes, at once (`fanoutStatus`),
 *                  renewed every `ACK_GRACE_MS` while it lasts.
 *
 * State: its topic and number, in its storage (read again after it
 * hibernates; the room passes them with every delivery anyway). In memory:
 * its readers' flows, the last cursor delivered (unknown after hibernation
 * until the next delivery, since nothing was in flight while it slept), the
 * delivery being handled, and the frames kept while a replay is in progress.
 */
import { CloseCode, ErrorCode, type TopicEnvelope, unwrap, VivimError } from '@vivim/shared'
import type { RoomRequest } from './room-headers.ts'
import { type BatchFrame, batchFrames } from './topic-batch.ts'
import { FanoutReplays } from './topic-fanout-replays.ts'
import { decodePlan, FANOUT_HEADER, FANOUT_READERS_HEADER, type FanoutStatus } from './topic-fanouts.ts'
import { ACK_GRACE_MS } from './topic-flows.ts'
import { type PublishResult, TopicReaderRoom } from './topic-reader-room.ts'
import type { TopicRoom } from './topic-room.ts'
import type { ReplayPlan } from './topic-store.ts'

/** Where this object belongs: its topic and its number. */
interface Place {
  readonly topic: string
  readonly k: number
}

const PLACE_KEY = 'place'

export class TopicFanout extends TopicReaderRoom {
  protected readonly kind = 'topic fan-out'
  private place: Place | null = null
  /** The number the room gave with the upgrade being handled. */
  private offered: number | null = null
  private roomStub: DurableObjectStub<TopicRoom> | null = null
  private delivered: number | null = null
  private readonly replays = new FanoutReplays()
  /** The delivery handled last: the next one is handled after it. */
  private turn: Promise<unknown> = Promise.resolve()
  private holding = false
  private holdTimer: ReturnType<typeof setTimeout> | null = null

  /** A subscriber the room passed on; answered with this object's reader count for the room. */
  override async fetch(request: Request): Promise<Response> {
    const k = Number(request.headers.get(FANOUT_HEADER))
    this.offered = Number.isSafeInteger(k) && k >= 0 ? k : null
    const response = await super.fetch(request)
    if (response.status !== 101 || response.webSocket === null) return response
    const headers = { [FANOUT_READERS_HEADER]: String(this.sockets.sockets().length) }
    return new Response(null, { status: 101, webSocket: response.webSocket, headers })
  }

  protected override onUpgrade({ name, access, resume }: RoomRequest): void {
    // The room keeps write-only sockets (they read nothing) and passes on readers with their replay.
    if (this.offered === null || !access.canRead || decodePlan(resume) === null) {
      throw new VivimError(ErrorCode.BadRequest, 'a topic fan-out takes the readers its room passes on')
    }
    this.bind(name, this.offered)
  }

  protected override onConnect(ws: WebSocket, { resume }: RoomRequest): void {
    this.replays.begin(ws)
    this.replay(ws, decodePlan(resume) as ReplayPlan).catch(() => {
      this.roomStub = null
      this.replays.forget(ws)
      this.sockets.reject(ws, CloseCode.InternalError, 'the topic could not be read; connect again')
    })
  }

  /**
   * The frames of one of the room's flushes, in cursor order (one tried again may repeat some).
   * Deliveries arrive in the order the room made them and are handled in that order, each after
   * the one before, even when one has to read from the store first.
   */
  deliver(topic: string, k: number, frames: BatchFrame[]): Promise<FanoutStatus> {
    this.bind(topic, k)
    const handled = this.turn.then(() => this.handle(frames))
    this.turn = handled.catch(() => {})
    return handled
  }

  private async handle(frames: BatchFrame[]): Promise<FanoutStatus> {
    const first = frames[0]?.first
    if (first === undefined) return this.status()
    const all = [...(await this.missing(first)), ...frames]
    const now = Date.now()
    this.delivered = Math.max(this.delivered ?? 0, (all.at(-1) as BatchFrame).last)
    this.replays.record(all)
    const readers = this.sockets.sockets()
    this.fanOut(this.live(readers), all, now)
    this.checkHolding(now, false)
    return { readers: readers.length, holding: this.holding }
  }

  protected override latest(): number | null {
    return this.delivered
  }

  /** The room decides, when it stores the message. */
  protected override holdsBack(): boolean {
    return false
  }

  protected override async publishFrom(_envelope: TopicEnvelope, encoded: Uint8Array): Promise<PublishResult> {
    let settled: Awaited<ReturnType<TopicRoom['relayPublish']>>
    try {
      settled = await this.room().relayPublish(this.where().topic, encoded)
    } catch {
      this.roomStub = null
      throw new VivimError(ErrorCode.Internal, 'the topic did not answer; publish again')
    }
    return unwrap(settled)
  }

  protected override acked(_ws: WebSocket, now: number): void {
    this.checkHolding(now, true)
  }

  protected override onLeave(ws: WebSocket): void {
    super.onLeave(ws)
    this.replays.forget(ws)
    this.checkHolding(Date.now(), true)
  }

  /** Sends a new reader its replay, read from the room's store, then what was delivered meanwhile. */
  private async replay(ws: WebSocket, plan: ReplayPlan): Promise<void> {
    const { topic } = this.where()
    this.replayTo(ws, plan, [])
    for (let at = plan.from; at < plan.latest; ) {
      const page = await this.room().readHistory(topic, at, plan.latest)
      if (!this.replays.has(ws)) return
      // The history moved past the replay while it was read (cursor 0 asks for whatever is held).
      if (page.oldest > at + 1 && at !== 0) return this.tooFarBehind(ws)
      this.replayMore(ws, page.messages)
      const last = page.messages.at(-1)?.c
      if (!page.more || last === undefined) break
      at = last
    }
    this.goLive(ws, plan)
    const missed = this.replays.end(ws, plan.latest)
    if ((missed[0]?.first ?? plan.latest + 1) > plan.latest + 1) return this.tooFarBehind(ws)
    this.fanOut([ws], missed, Date.now())
  }

  /** What live readers lack before cursor `first`, read from the room's store; readers it cannot make whole are closed. */
  private async missing(first: number): Promise<BatchFrame[]> {
    // Every live reader has what was delivered here: only a delivery past it can leave one behind.
    if (this.delivered !== null && first <= this.delivered + 1) return []
    const readers = this.live(this.sockets.sockets())
    const sent = (ws: WebSocket) => this.flows.get(ws, first - 1).sent
    let need = first - 1
    for (const ws of readers) need = Math.min(need, sent(ws))
    if (need >= first - 1) return []
    const page = await this.room().readHistory(this.where().topic, need, first - 1)
    const whole = page.more ? first - 1 : page.oldest - 1
    for (const ws of readers) if (sent(ws) < whole) this.tooFarBehind(ws)
    return page.more ? [] : batchFrames(page.messages)
  }

  private tooFarBehind(ws: WebSocket): void {
    this.replays.forget(ws)
    this.sockets.reject(ws, CloseCode.TooSlow, 'fell too far behind the topic; resume from the last cursor')
  }

  /** The readers past their replay. */
  private live(readers: WebSocket[]): WebSocket[] {
    const replaying = this.replays.sockets()
    return replaying.size === 0 ? readers : readers.filter((ws) => !replaying.has(ws))
  }

  private status(): FanoutStatus {
    return { readers: this.sockets.sockets().length, holding: this.holding }
  }

  /**
   * Whether a reader here holds publishes back now; the room is told (`tell`) when that changes.
   * While it does, it is checked again every `ACK_GRACE_MS` (a reader lagging that long is
   * excused) and the room's lease on it renewed.
   */
  private checkHolding(now: number, tell: boolean): void {
    const holding = this.flows.holdsBack(now)
    if (holding && this.holdTimer === null) {
      this.holdTimer = setTimeout(() => {
        this.holdTimer = null
        this.checkHolding(Date.now(), false)
        this.tellRoom()
      }, ACK_GRACE_MS + 1)
    }
    if (holding === this.holding) return
    this.holding = holding
    if (tell) this.tellRoom()
  }

  private tellRoom(): void {
    const place = this.where()
    this.room()
      .fanoutStatus(place.k, this.status())
      .catch(() => {
        this.roomStub = null
      })
  }

  private bind(topic: string, k: number): void {
    if (this.place !== null) return
    this.place = { topic, k }
    if (this.ctx.storage.kv.get(PLACE_KEY) === undefined) this.ctx.storage.kv.put(PLACE_KEY, this.place)
  }

  private where(): Place {
    this.place ??= this.ctx.storage.kv.get<Place>(PLACE_KEY) ?? null
    if (this.place === null) throw new Error('a topic fan-out used before its room passed it a subscriber')
    return this.place
  }

  private room(): DurableObjectStub<TopicRoom> {
    this.roomStub ??= this.env.TOPIC_ROOM.getByName(this.where().topic)
    return this.roomStub
  }
}
