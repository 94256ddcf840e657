/**
 * `WebhookQueue`, one Durable Object per subscription (named
 * `webhook:<id>`): the subscription's settings, the deliveries it still owes
 * and the last ones it finished (`queue-store.ts`). A delivery is written
 * here before the event that made it is acknowledged, and sent by alarms,
 * oldest first and one at a time, so the edge never has more than one
 * request in flight to a subscription's URL.
 *
 * A failed attempt is retried after an exponential back-off with equal
 * jitter (`@vivim/shared`'s `backoffCap` and `jittered`, from
 * `WEBHOOK_RETRY_BASE_MS` doubling to `WEBHOOK_RETRY_MAX_MS`); after
 * `WEBHOOK_LIMITS.attempts` attempts the delivery is given up and the next
 * one goes. `WEBHOOK_LIMITS.suspendAfter` given up in a row, or one `410
 * Gone`, suspend the subscription: nothing more is sent, so a URL that never
 * takes them receives a bounded number of requests whatever the events.
 *
 * It grows only to `WEBHOOK_LIMITS.queued` owed plus `history` finished
 * rows; an event past that is counted as dropped, and still numbered.
 *
 * @example
 * ```ts
 * const queue = env.WEBHOOK_QUEUE.getByName(queueName(id))
 * await queue.enqueue('topic.message', { topic, id, envelope }) // 'queued', or why not
 * ```
 */
import { DurableObject } from 'cloudflare:workers'
import { backoffCap, jittered, logLine, type WebhookStatus as QueueStatus } from '@vivim/shared'
import { type DeliveryInfo, QueueStore } from './queue-store.ts'
import { sendDelivery } from './send.ts'
import { newId, type SubscriptionConfig, WEBHOOK_LIMITS, type WebhookEvent } from './subscription.ts'

/** The version tag of every delivery body. */
export const WEBHOOK_VERSION = 'vivim-webhook/1'

/** Deliveries one alarm sends before it yields to the next. */
const ALARM_BATCH = 20

export type EnqueueOutcome = 'queued' | 'full' | 'suspended' | 'gone'

/** A subscription's delivery state, as the owner lists it (`@vivim/shared`'s HTTP shapes). */
export type { QueueStatus }

/** The object of subscription `id`. */
export function queueName(id: string): string {
  return `webhook:${id}`
}

/** The retry delays of this deployment. */
export function retryInit(env: Pick<Env, 'WEBHOOK_RETRY_BASE_MS' | 'WEBHOOK_RETRY_MAX_MS'>) {
  const positive = (text: string | undefined, fallback: number) => {
    const n = Number(text)
    return Number.isSafeInteger(n) && n > 0 ? n : fallback
  }
  const initialMs = positive(env.WEBHOOK_RETRY_BASE_MS, 5_000)
  return { initialMs, maxMs: Math.max(initialMs, positive(env.WEBHOOK_RETRY_MAX_MS, 3_600_000)) }
}

export class WebhookQueue extends DurableObject<Env> {
  private readonly store: QueueStore
  private delivering: Promise<void> | null = null

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    this.store = new QueueStore(ctx.storage.sql)
  }

  /** Keeps the subscription's settings; again with the same id changes nothing. */
  configure(config: SubscriptionConfig): void {
    if (this.config() === null) this.store.setMeta('config', JSON.stringify(config))
  }

  config(): SubscriptionConfig | null {
    const raw = this.store.meta('config')
    return raw === null ? null : (JSON.parse(raw) as SubscriptionConfig)
  }

  /** Stores a delivery of `event` with `data` and makes sure an alarm will send it; or says why not. */
  async enqueue(event: WebhookEvent, data: unknown): Promise<EnqueueOutcome> {
    const config = this.config()
    if (config === null) return 'gone'
    const seq = this.store.nextSeq()
    if (this.store.meta('suspended') !== null) return this.dropped('suspended')
    if (this.store.owed() >= WEBHOOK_LIMITS.queued) return this.dropped('full')
    const id = newId()
    const at = Date.now()
    const body = JSON.stringify({
      v: WEBHOOK_VERSION,
      id,
      webhook: config.id,
      seq,
      event,
      resource: config.resource,
      at,
      data,
    })
    if (new TextEncoder().encode(body).length > WEBHOOK_LIMITS.bodyBytes) {
      logLine('warn', 'webhook delivery over the size bound', { webhook: config.id, event })
      return this.dropped('full')
    }
    this.store.add({ seq, id, event, body, createdAt: at })
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(at)
    return 'queued'
  }

  status(): QueueStatus {
    const head = this.store.head()
    const suspended = this.store.meta('suspended')
    const retrying = head !== null && head.attempts > 0
    const latest = this.store.list().find((d) => d.lastError !== null)
    const lastDelivered = this.store.meta('lastDelivered')
    return {
      state: suspended !== null ? 'suspended' : retrying ? 'retrying' : 'active',
      pending: this.store.owed(),
      nextAttemptAt: retrying ? head.nextAt : null,
      lastError: latest?.lastError ?? null,
      lastDeliveredAt: lastDelivered === null ? null : Number(lastDelivered),
      delivered: Number(this.store.meta('delivered') ?? 0),
      failed: Number(this.store.meta('failed') ?? 0),
      dropped: Number(this.store.meta('dropped') ?? 0),
      suspended,
    }
  }

  /** Owed deliveries and the last finished ones, newest first. */
  deliveries(): DeliveryInfo[] {
    return this.store.list()
  }

  /** Forgets the subscription and everything it owes. */
  async remove(): Promise<void> {
    await this.ctx.storage.deleteAlarm()
    await this.ctx.storage.deleteAll()
    this.store.forget()
  }

  override async alarm(): Promise<void> {
    // One delivery at a time: an alarm that starts while one runs waits for it.
    while (this.delivering) await this.delivering
    this.delivering = this.deliver().finally(() => {
      this.delivering = null
    })
    await this.delivering
  }

  private async deliver(): Promise<void> {
    const config = this.config()
    if (config === null) return
    for (let sent = 0; sent < ALARM_BATCH; sent++) {
      if (this.store.meta('suspended') !== null) return
      const head = this.store.head()
      if (head === null) return
      const now = Date.now()
      if (head.nextAt > now) return void (await this.ctx.storage.setAlarm(head.nextAt))
      const outcome = await sendDelivery(this.env, config, head.body)
      // Removed while the request was out: nothing is left to record.
      if (this.config() === null) return
      const at = Date.now()
      if (outcome.ok) {
        this.store.finish(head.seq, 'delivered', at, outcome.status, null)
        this.store.count('delivered')
        this.store.setMeta('lastDelivered', String(at))
        this.store.setMeta('failedInRow', '0')
        continue
      }
      if (!outcome.gone && head.attempts + 1 < WEBHOOK_LIMITS.attempts) {
        const init = retryInit(this.env)
        const nextAt = at + jittered(backoffCap(head.attempts, init), { jitter: 'equal' })
        this.store.retryAt(head.seq, nextAt, outcome.status, outcome.error)
        return void (await this.ctx.storage.setAlarm(nextAt))
      }
      this.store.finish(head.seq, 'failed', at, outcome.status, outcome.error)
      this.store.count('failed')
      const inRow = this.store.count('failedInRow')
      if (outcome.gone || inRow >= WEBHOOK_LIMITS.suspendAfter) this.suspend(config, at, outcome.gone)
    }
    await this.ctx.storage.setAlarm(Date.now())
  }

  private suspend(config: SubscriptionConfig, at: number, gone: boolean): void {
    const reason = gone
      ? 'the receiver answered 410 Gone'
      : `${WEBHOOK_LIMITS.suspendAfter} deliveries in a row were given up`
    this.store.setMeta('suspended', reason)
    const owed = this.store.owed()
    this.store.failAll(at, `suspended: ${reason}`)
    this.store.count('failed', owed)
    logLine('warn', 'webhook suspended', { webhook: config.id, reason })
  }

  private dropped(outcome: 'full' | 'suspended'): EnqueueOutcome {
    this.store.count('dropped')
    return outcome
  }
}
