/**
 * A topic room's fan-out objects, seen from the room (`topic-room.ts`):
 * which exist, how many readers each serves, what each still has to be sent,
 * and whether any holds publishers back. The fan-out object itself is
 * `topic-fanout.ts`.
 *
 * Why: a room sends every flush to every reader, so its send loop grows with
 * the readers and, past about a thousand, it is what limits the topic
 * (`bench/README.md`, topics). Once the room serves `readersPerObject`
 * readers itself, each new reader's upgrade is passed on to fan-out object k
 * (a Durable Object named `<topic>#<k>`), whose 101 the room returns as its
 * own: the Worker's route is unchanged and the room still decides, claims
 * and flushes as for its own readers. It goes on verifying, deduplicating
 * and storing each message once, and sends the frames of each flush, encoded
 * once, to each fan-out object, which sends them on to its readers as they
 * are. A reader goes to the fan-out object with the fewest readers; a new
 * one is opened when each serves `readersPerObject`. Publishers stay where
 * they connected: a write-only socket always with the room, a reader's
 * publishes passed on by its fan-out object over RPC.
 *
 * Why RPC and whole frames: calls on one stub arrive in the order made, each
 * answer carries the object's state back (readers, holding), and a frame is
 * already what every reader gets, so a fan-out object's readers get the very
 * frames the room's own get (one encoding per flush for the whole topic).
 * Each flush goes to each fan-out object at once, without waiting for the
 * answers to the ones before: a reader behind a fan-out object is then one
 * hop behind the room's own readers, however busy the room is with other
 * work when the answers come back (an earlier version sent one delivery at a
 * time, and under load its readers fell seconds behind). A replay is fixed
 * when the room passes the reader on (right after a flush, as for one of its
 * own) and read from the store by the fan-out object (`readHistory`), so no
 * message is read twice or missed between the replay and the deliveries.
 *
 * Back-pressure means what it means for a socket: a link is a reader of the
 * room (`TopicFlows`) whose acknowledgements are the answers to its
 * deliveries, so while it is `Limits.maxTopicReaderLag` messages behind,
 * publishes wait; with `Limits.maxTopicUnacked` messages (or
 * `MAX_IN_FLIGHT_BYTES`) unanswered it is sent nothing more until the
 * answers come, and then the fan-out object reads what its readers missed
 * from the store. Each fan-out object also says whether
 * one of its own readers holds publishes back, in each delivery's answer and
 * whenever that changes (`TopicRoom.fanoutStatus`); the room believes it for
 * `HOLD_LEASE_MS`, which the object renews while it lasts, so a fan-out
 * object that went away cannot stop the topic.
 *
 * State: the number of fan-out objects opened is stored (the room's key
 * `fanouts`), so a room that restarts keeps sending to all of them; it grows
 * by one per `readersPerObject` readers at the topic's busiest and never
 * shrinks (an object whose readers all left is sent nothing until it gets
 * one again). In memory, per link: its stub, its reader count (from the
 * object's answers; unknown after a restart), its flow, and the bytes of its
 * unanswered deliveries (bounded by `MAX_IN_FLIGHT_BYTES`).
 */
import { Limits } from '@vivim/shared'
import type { Access } from '../http/access.ts'
import { connectRequest } from './room-headers.ts'
import type { BatchFrame } from './topic-batch.ts'
import type { TopicFanout } from './topic-fanout.ts'
import { TopicFlows } from './topic-flows.ts'
import type { ReplayPlan } from './topic-store.ts'

/** What a fan-out object says of itself in each answer. */
export interface FanoutStatus {
  /** Readers it serves, those still replaying included. */
  readonly readers: number
  /** Whether one of its readers that still acknowledges is far behind (`TopicFlows.holdsBack`). */
  readonly holding: boolean
}

/** The request header that tells a fan-out object its number when the room passes it an upgrade. */
export const FANOUT_HEADER = 'X-Vivim-Fanout'

/** The response header with which a fan-out object answers an upgrade with its reader count. */
export const FANOUT_READERS_HEADER = 'X-Vivim-Fanout-Readers'

/** The name of a topic's fan-out object `k`; topic names hold no `#`. */
export const fanoutName = (topic: string, k: number): string => `${topic}#${k}`

/**
 * Readers one topic object serves before new subscribers go to another: `TOPIC_READERS_PER_OBJECT`
 * when the deployment sets it to a positive integer (tests set it low, to spread a few
 * subscribers), `Limits.topicReadersPerObject` otherwise.
 */
export function readersPerObject(env: object): number {
  const set = Number((env as { TOPIC_READERS_PER_OBJECT?: unknown }).TOPIC_READERS_PER_OBJECT)
  return Number.isSafeInteger(set) && set > 0 ? set : Limits.topicReadersPerObject
}

/** How long the room believes a fan-out object's "holding" (it renews it every `ACK_GRACE_MS` while it lasts). */
const HOLD_LEASE_MS = 10_000

/** Frame bytes of deliveries a link has unanswered at most; past it, it is sent nothing until it catches up. */
const MAX_IN_FLIGHT_BYTES = 8 * 1024 * 1024

/** Failed deliveries in a row a link tries again before it drops them for the store. */
const MAX_RETRIES = 3

const OPENED_KEY = 'fanouts'

interface Link {
  readonly k: number
  stub: DurableObjectStub<TopicFanout>
  /** Readers it serves, as last heard plus those passed on since; null when not heard since the room started. */
  readers: number | null
  /** Frame bytes of the deliveries not yet answered. */
  inFlightBytes: number
  /** Failed deliveries in a row. */
  failures: number
  /** Until when the object's "holding" stands, ms since the epoch; 0 when it does not hold publishes back. */
  holdingUntil: number
}

export class TopicFanouts {
  private readonly links: Link[] = []
  private readonly flows = new TopicFlows<Link>()
  private readonly ctx: DurableObjectState
  private readonly env: Env
  private readonly topic: () => string

  /** `topic` names the room's topic (bound before any subscriber or message reaches it). */
  constructor(ctx: DurableObjectState, env: Env, topic: () => string) {
    this.ctx = ctx
    this.env = env
    this.topic = topic
    const opened = ctx.storage.kv.get<number>(OPENED_KEY) ?? 0
    for (let k = 0; k < opened; k++) this.links.push(this.link(k))
  }

  /** How many fan-out objects the topic has. */
  get count(): number {
    return this.links.length
  }

  /**
   * Passes a subscriber's upgrade to the fan-out object with the fewest readers (a new one when
   * all serve `readersPerObject`) and answers with its 101. Its replay goes up to where `plan`
   * says, fixed now, as a subscriber of the room's own is replayed at once.
   */
  async handOff(topic: string, access: Access, plan: ReplayPlan, readersPerObject: number): Promise<Response> {
    const link = this.pick(readersPerObject)
    link.readers = (link.readers ?? 0) + 1
    const request = connectRequest(topic, access, encodePlan(plan))
    request.headers.set(FANOUT_HEADER, String(link.k))
    let response: Response
    try {
      response = await link.stub.fetch(request)
    } catch (error) {
      // A broken stub fails every later call too.
      link.stub = this.stubOf(link.k)
      throw error
    }
    const readers = Number(response.headers.get(FANOUT_READERS_HEADER))
    if (Number.isSafeInteger(readers) && readers >= 0) link.readers = readers
    if (response.status !== 101 || response.webSocket === null) return response
    return new Response(null, { status: 101, webSocket: response.webSocket })
  }

  private pick(readersPerObject: number): Link {
    let best: Link | null = null
    for (const link of this.links) if (best === null || (link.readers ?? 0) < (best.readers ?? 0)) best = link
    if (best !== null && (best.readers ?? 0) < readersPerObject) return best
    const k = this.links.length
    this.ctx.storage.kv.put(OPENED_KEY, k + 1)
    const link = this.link(k)
    this.links.push(link)
    return link
  }

  private link(k: number): Link {
    return { k, stub: this.stubOf(k), readers: null, inFlightBytes: 0, failures: 0, holdingUntil: 0 }
  }

  private stubOf(k: number): Link['stub'] {
    return this.env.TOPIC_FANOUT.getByName(fanoutName(this.topic(), k))
  }

  /** Sends one flush's frames (in cursor order) to every fan-out object with readers, at once. */
  deliver(frames: readonly BatchFrame[], now: number): void {
    const first = frames[0]?.first
    const last = frames.at(-1)?.last
    if (first === undefined || last === undefined) return
    const bytes = frames.reduce((sum, f) => sum + f.frame.byteLength, 0)
    for (const link of this.links) {
      if (link.readers === 0) continue
      // A link starts level with the room: the object's replays cover what came before.
      const flow = this.flows.get(link, first - 1)
      // Too much unanswered: it is sent nothing until it has caught up, then reads what it missed from the store.
      if (flow.sent - flow.acked >= Limits.maxTopicUnacked || link.inFlightBytes + bytes > MAX_IN_FLIGHT_BYTES) continue
      this.flows.sent(link, last, now)
      this.send(link, frames, bytes)
    }
  }

  /** One delivery; its answer moves the link's flow and says how the object is. */
  private send(link: Link, frames: readonly BatchFrame[], bytes: number): void {
    const last = (frames.at(-1) as BatchFrame).last
    const stub = link.stub
    link.inFlightBytes += bytes
    stub.deliver(this.topic(), link.k, [...frames]).then(
      (status) => {
        link.inFlightBytes -= bytes
        link.failures = 0
        this.flows.ack(link, last, last, Date.now())
        this.heard(link, status, Date.now())
      },
      () => {
        link.inFlightBytes -= bytes
        // A broken stub fails every later call too: the next delivery goes through a new one.
        if (link.stub === stub) link.stub = this.stubOf(link.k)
        // Delivering again is harmless: the object sends each reader only what follows what it has,
        // and a later delivery that arrives first makes it read these from the store anyway.
        if (++link.failures <= MAX_RETRIES) setTimeout(() => this.send(link, frames, bytes), 100 * link.failures)
        // Given up: counted as answered, so the link is not held up by it; the next delivery fills the gap.
        else this.flows.ack(link, last, last, Date.now())
      },
    )
  }

  /** Fan-out object `k` says whether one of its readers holds publishes back (it tells when that changes). */
  reported(k: number, status: FanoutStatus, now: number): void {
    const link = this.links[k]
    if (link !== undefined) this.heard(link, status, now)
  }

  /** A fan-out object's word about itself, from a delivery's answer or its own report. */
  private heard(link: Link, status: FanoutStatus, now: number): void {
    link.readers = status.readers
    link.holdingUntil = status.holding ? now + HOLD_LEASE_MS : 0
  }

  /** Whether a fan-out object, or one of its readers, is too far behind for anyone to publish now. */
  holdsBack(now: number): boolean {
    return this.flows.holdsBack(now) || this.links.some((link) => link.holdingUntil > now)
  }

  /** Passes a revocation on to every fan-out object, through the stubs its subscribers' upgrades went through. */
  revoke(ids: string[]): void {
    for (const link of this.links) link.stub.revoke(ids).catch(() => {})
  }
}

/** A replay plan as the resume of the upgrade the room passes on: `replay:<from>:<latest>[:<gap from>:<oldest>]`. */
export function encodePlan(plan: ReplayPlan): string {
  const gap = plan.gap === null ? '' : `:${plan.gap.from}:${plan.gap.oldest}`
  return `replay:${plan.from}:${plan.latest}${gap}`
}

/** The replay plan an upgrade passed on by the room carries; null for anything else. */
export function decodePlan(resume: string | null): ReplayPlan | null {
  const parts = /^replay:(\d+):(\d+)(?::(\d+):(\d+))?$/.exec(resume ?? '')
  if (parts === null) return null
  const [, from, latest, gapFrom, oldest] = parts.map(Number) as number[]
  const gap = gapFrom === undefined || Number.isNaN(gapFrom) ? null : { from: gapFrom, oldest: oldest as number }
  return { from: from as number, latest: latest as number, gap }
}
