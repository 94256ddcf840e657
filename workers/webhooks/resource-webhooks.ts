/**
 * `WebhookResource`, one Durable Object per subscribed resource (named by the
 * resource, `doc:<docId>` or `topic:<topic>`): its subscriptions, at most
 * `WEBHOOK_LIMITS.perResource` (`resource-store.ts`), and what turns the
 * resource's events into deliveries in each subscription's queue.
 *
 * - A topic message is handed to every `topic.message` subscription's queue
 *   before the hand-over resolves (so the room's journal keeps it until then).
 * - A document flush only marks the document's subscriptions as changed; an
 *   alarm makes each one's delivery when its debounce is due (`fireAt`),
 *   reading the document's state vector (or, for `circle.members`, its whole
 *   state) from its `DocRoom` once per due delivery, not per flush, and
 *   comparing it with what the last delivery said. So a delivery is exact
 *   even for flushes it never heard of, which is what the catch-up check a
 *   little after each subscription's creation relies on (`MEMO_TTL_MS`).
 *
 * The edge asks `subscribed` at most once per resource per isolate every
 * `MEMO_TTL_MS` (`extension.ts`); an object only asked stores nothing.
 *
 * @example
 * ```ts
 * const resource = resourceWebhooks(env, 'doc:notes:n1') // one object per subscribed resource
 * unwrap(await resource.add('doc:notes:n1', { id, event: 'doc.changed', debounceMs: 2000, maxWaitMs: 60000 }))
 * await resource.changed([]) // from the extension, after a flush
 * ```
 */
import { DurableObject } from 'cloudflare:workers'
import { ErrorCode, logLine, type Settled, settle, unwrap, VivimError } from '@vivim/shared'
import { type EnqueueOutcome, queueName } from './delivery-queue.ts'
import { MEMO_TTL_MS } from './extension.ts'
import {
  circleMembersData,
  docChangedData,
  type Members,
  membersOf,
  stateVectorMoved,
  topicMessageData,
} from './payload.ts'
import { fireAt, ResourceStore, type SubRow } from './resource-store.ts'
import { docOf, WEBHOOK_LIMITS, type WebhookEvent } from './subscription.ts'

/** A Yjs state vector of nothing: asking a room for what it holds beyond it returns its whole state. */
const EMPTY_STATE_VECTOR = new Uint8Array([0])
/** How long a delivery that could not be made (the room or a queue unreachable) waits before it is tried again. */
const RETRY_MS = 30_000

/** A subscription as its resource lists it. */
export interface ResourceSub {
  readonly id: string
  readonly event: WebhookEvent
  readonly debounceMs: number
  readonly maxWaitMs: number
  readonly createdAt: number
}

/** What a document's room answered: its state vector, and its whole state when asked. */
interface DocState {
  readonly stateVector: Uint8Array
  readonly members: Members | null
}

/** The object holding `resource`'s webhooks: one per subscribed resource (`doc:<id>`, `topic:<name>`). */
export function resourceWebhooks(env: Pick<Env, 'WEBHOOK_RESOURCE'>, resource: string) {
  return env.WEBHOOK_RESOURCE.getByName(resource)
}

export class WebhookResource extends DurableObject<Env> {
  private readonly store: ResourceStore
  /** An alarm known to be set (until it fires): a later due time needs no storage call. */
  private armedAt: number | null = null

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    this.store = new ResourceStore(ctx.storage.sql)
  }

  /** Whether the resource has any subscription: what the edge's memo asks. */
  subscribed(): boolean {
    return this.store.count() > 0
  }

  /**
   * Adds a subscription, with what its first delivery is compared against:
   * the document's state vector or members now. Refused past the bound.
   */
  add(
    resource: string,
    sub: { id: string; event: WebhookEvent; debounceMs: number; maxWaitMs: number },
  ): Promise<Settled<null>> {
    return settle(async () => {
      if (this.store.count() >= WEBHOOK_LIMITS.perResource) {
        throw new VivimError(ErrorCode.RateLimited, `${resource} has ${WEBHOOK_LIMITS.perResource} webhooks already`)
      }
      const docId = docOf(resource)
      const state = docId === null ? null : await this.docState(docId, sub.event === 'circle.members')
      // Edges whose memo still says "no webhooks" miss flushes for a while: a check then covers them.
      this.store.add(resource, sub, docId === null ? null : Date.now() + MEMO_TTL_MS)
      if (sub.event === 'doc.changed' && state) this.store.setBase(sub.id, state.stateVector)
      if (state?.members) this.store.setMemberBase(sub.id, {}, state.members)
      await this.schedule()
      return null
    })
  }

  /** Drops a subscription; the object's storage goes with its last one. */
  async remove(id: string): Promise<void> {
    this.store.remove(id)
    if (this.store.count() > 0) return
    await this.ctx.storage.deleteAlarm()
    await this.ctx.storage.deleteAll()
    this.store.forget()
    this.armedAt = null
  }

  list(): ResourceSub[] {
    return this.store.subs().map((row) => ({
      id: row.id,
      event: row.event,
      debounceMs: row.debounce,
      maxWaitMs: row.max_wait,
      createdAt: row.created,
    }))
  }

  /**
   * The document flushed (`peers`: the federated instances whose updates it held; `writers`: the DIDs
   * whose writes it held): its subscriptions wait for their debounce.
   */
  async changed(peers: string[], writers: string[] = []): Promise<void> {
    this.store.touch(Date.now(), peers, writers)
    await this.schedule()
  }

  /** A topic message (its envelope's bytes): queued for every `topic.message` subscription; rejects if a queue could not take it. */
  async message(envelope: Uint8Array): Promise<void> {
    const subs = this.store.subs().filter((row) => row.event === 'topic.message')
    if (subs.length === 0) return
    const data = topicMessageData(envelope)
    await Promise.all(subs.map(async (row) => this.settled(row, await this.enqueue(row.id, 'topic.message', data))))
  }

  override async alarm(): Promise<void> {
    this.armedAt = null
    const now = Date.now()
    const due = this.store.subs().filter((row) => {
      const at = fireAt(row)
      return at !== null && at <= now
    })
    const docId = docOf(this.store.resource() ?? '')
    if (due.length > 0 && docId !== null) {
      try {
        const state = await this.docState(
          docId,
          due.some((row) => row.event === 'circle.members'),
        )
        for (const row of due) await this.fire(docId, row, state)
      } catch (error) {
        logLine('warn', 'webhook deliveries not made; tried again later', { docId, error })
        for (const row of due) this.store.retryAt(row.id, Date.now() + RETRY_MS)
      }
    }
    await this.schedule()
  }

  /** Makes `row`'s delivery from the document's state, if there is anything to say. */
  private async fire(docId: string, row: SubRow, state: DocState): Promise<void> {
    const before = row.base === null ? null : new Uint8Array(row.base)
    if (row.event === 'circle.members' && state.members) {
      const base = this.store.memberBase(row.id)
      const data = circleMembersData(docId, base, state.members)
      if (data !== null && !this.settled(row, await this.enqueue(row.id, row.event, data))) return
      this.store.setMemberBase(row.id, base, state.members)
      return this.store.delivered(row, row.last_at, null)
    }
    // A check with no flush seen and nothing new: nothing to deliver.
    if (row.first_at !== null || stateVectorMoved(state.stateVector, before)) {
      const peers = JSON.parse(row.peers) as string[]
      const writers = JSON.parse(row.writers ?? '[]') as string[]
      const seen = { firstAt: row.first_at, lastAt: row.last_at, updates: row.updates, peers, writers }
      const data = docChangedData(docId, state.stateVector, before, seen)
      if (!this.settled(row, await this.enqueue(row.id, 'doc.changed', data))) return
    }
    this.store.delivered(row, row.last_at, state.stateVector)
  }

  /** Hands a delivery to the subscription's queue; a queue that no longer exists drops the subscription here. */
  private async enqueue(id: string, event: WebhookEvent, data: unknown): Promise<EnqueueOutcome> {
    return this.env.WEBHOOK_QUEUE.getByName(queueName(id)).enqueue(event, data)
  }

  /** False when the subscription is gone (and is dropped here too). */
  private settled(row: SubRow, outcome: EnqueueOutcome): boolean {
    if (outcome !== 'gone') return true
    this.store.remove(row.id)
    return false
  }

  private async docState(docId: string, whole: boolean): Promise<DocState> {
    const room = this.env.DOC_ROOM.getByName(docId)
    const state = unwrap(await room.remoteState(docId, whole ? EMPTY_STATE_VECTOR : null))
    return { stateVector: state.stateVector, members: whole && state.diff ? membersOf(state.diff) : null }
  }

  /** The alarm no later than the earliest due delivery. */
  private async schedule(): Promise<void> {
    const times = this.store
      .subs()
      .map(fireAt)
      .filter((t): t is number => t !== null)
    if (times.length === 0) return
    const next = Math.min(...times)
    if (this.armedAt !== null && this.armedAt <= next) return
    const current = await this.ctx.storage.getAlarm()
    if (current === null || current > next) await this.ctx.storage.setAlarm(next)
    this.armedAt = Math.min(current ?? next, next)
  }
}
