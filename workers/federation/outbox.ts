/**
 * `FederationOutbox`, one Durable Object per destination domain: every
 * transaction for that instance is written to its SQLite before the call
 * that produced it returns, then delivered in order by alarms, so nothing
 * accepted here is lost while the destination is down. Delivery retries
 * with exponential back-off and jitter, behind a circuit breaker
 * (`backoff.ts`). The destination answers each transaction with its cursor
 * (the last seq it applied from us): everything up to it is deleted, and
 * delivery resumes right after it, so a receiver back from an outage gets
 * exactly what it missed, in order.
 *
 * A receiver whose cursor is behind what this outbox still holds lost its
 * state (or this outbox did): it is sent a `gap` to move its cursor to what
 * is held, and, if it is behind what it had acknowledged, everything this
 * instance still has for it (`recovery.ts`). Seqs start at the time the
 * outbox was created, so an outbox that lost its own state starts past
 * anything it sent before, and the receiver's cursor shows the gap.
 *
 * Activities are handed to it by `enqueue.ts`.
 *
 * @example
 * ```ts
 * // One outbox per destination and lane (`lanes.ts`), never one for the instance.
 * const outbox = env.FEDERATION_OUTBOX.getByName(outboxName(domain, laneOf(activity)))
 * const seqs = await outbox.enqueue(domain, [encodeActivity(activity)])
 * ```
 */
import { DurableObject } from 'cloudflare:workers'
import {
  ActivityType,
  decodeActivity,
  encodeActivity,
  encodeTransaction,
  FEDERATION_INBOX_PATH,
  type InboxReceipt,
  Limits,
  logLine,
  newTransactionId,
} from '@vivim/shared'
import { edgeIdentity } from '../auth/edge-identity.ts'
import {
  afterFailure,
  afterSuccess,
  type BreakerState,
  type DeliveryInit,
  type DeliveryState,
  initialDelivery,
  nextStep,
} from './backoff.ts'
import { federationConfig } from './config.ts'
import { descriptorOf } from './discovery.ts'
import { enqueue } from './enqueue.ts'
import { recoveryByLane } from './recovery.ts'
import { sendSigned } from './signed-request.ts'

/** Failures in a row that open the breaker. */
const BREAKER_THRESHOLD = 5
/** Transactions one alarm delivers before it yields to the next. */
const ALARM_BATCH = 100

export interface OutboxStatus {
  readonly domain: string | null
  /** Which of the destination's lanes this outbox carries (`lanes.ts`). */
  readonly lane: number
  readonly pending: number
  readonly failures: number
  readonly breaker: BreakerState
  readonly nextAt: number
  readonly lastError: string | null
  /** When it last had to refuse a transaction because it was full (null: not since it drained). */
  readonly overflowSince: number | null
}

type Row = {
  seq: number
  id: string
  at: number
  activity: ArrayBuffer
}

export class FederationOutbox extends DurableObject<Env> {
  private readonly sql: SqlStorage
  private delivering: Promise<void> | null = null

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    this.sql = ctx.storage.sql
    this.sql.exec(`CREATE TABLE IF NOT EXISTS txs (seq INTEGER PRIMARY KEY, id TEXT NOT NULL,
        at INTEGER NOT NULL, activity BLOB NOT NULL);
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);`)
  }

  /**
   * Stores activities for the destination, all or none, and makes sure an
   * alarm will deliver them; returns their seqs (consecutive), or none when
   * the outbox is full: then they arrive with what it queues once it drains.
   */
  async enqueue(domain: string, activities: Uint8Array[], lane = 0): Promise<number[]> {
    this.setMeta('domain', domain)
    if (lane !== 0) this.setMeta('lane', String(lane))
    if (this.pending() + activities.length > Limits.maxOutboxTransactions) {
      // Not stored, and no old one dropped: once this outbox drains it queues what this instance has
      // for the destination (`refillAfterOverflow`), which covers these. So the caller may go on.
      this.setMeta('overflow', String(Date.now()))
      logLine('warn', 'federation outbox full', { domain, refused: activities.length })
      return []
    }
    const seqs = this.store(activities)
    if ((await this.ctx.storage.getAlarm()) === null) {
      await this.ctx.storage.setAlarm(Math.max(Date.now(), this.state().nextAt))
    }
    return seqs
  }

  /** The destination was heard from: what waits on back-off or the breaker's cool-down may go now. */
  async wake(): Promise<void> {
    const state = this.state()
    if (this.pending() === 0 || state.nextAt <= Date.now()) return
    this.saveState({ ...state, nextAt: 0 })
    await this.ctx.storage.setAlarm(Date.now())
  }

  status(): OutboxStatus {
    const state = this.state()
    const overflow = this.meta('overflow')
    return {
      domain: this.meta('domain'),
      lane: this.lane(),
      pending: this.pending(),
      ...state,
      lastError: this.meta('lastError'),
      overflowSince: overflow === null ? null : Number(overflow),
    }
  }

  override async alarm(): Promise<void> {
    // One delivery at a time: an alarm set while one runs waits for it, then sends what is left.
    while (this.delivering) await this.delivering
    this.delivering = this.deliver().finally(() => {
      this.delivering = null
    })
    await this.delivering
  }

  private async deliver(): Promise<void> {
    const domain = this.meta('domain')
    const config = federationConfig(this.env)
    if (domain === null || config === null) return
    const init: DeliveryInit = { baseMs: config.retryBaseMs, maxMs: config.retryMaxMs, threshold: BREAKER_THRESHOLD }
    const failed = async (error: unknown) => {
      this.setMeta('lastError', (error as Error).message.slice(0, 500))
      const state = afterFailure(this.state(), Date.now(), init)
      this.saveState(state)
      await this.ctx.storage.setAlarm(state.nextAt)
    }
    let sent = 0
    while (sent < ALARM_BATCH) {
      const { step, state } = nextStep(this.state(), Date.now())
      if (step === 'wait') return void (await this.ctx.storage.setAlarm(state.nextAt))
      const rows = this.sql
        .exec<Row>('SELECT seq, id, at, activity FROM txs ORDER BY seq LIMIT ?', step === 'probe' ? 1 : 20)
        .toArray()
      if (rows.length === 0) {
        let refilled: boolean
        try {
          refilled = await this.refillAfterOverflow(domain)
        } catch (error) {
          return void (await failed(error))
        }
        if (refilled) continue
        return
      }
      this.saveState(state)
      for (const row of rows) {
        let receipt: InboxReceipt
        try {
          receipt = await this.send(domain, row, new Uint8Array(row.activity))
          sent++
          const oldest = this.sql.exec<{ seq: number }>('SELECT MIN(seq) AS seq FROM txs').one().seq
          if (receipt.cursor < row.seq && oldest > receipt.cursor + 1)
            receipt = await this.skipGap(domain, receipt, oldest)
        } catch (error) {
          return void (await failed(error))
        }
        this.sql.exec('DELETE FROM txs WHERE seq <= ?', receipt.cursor)
        this.setMeta('acked', String(Math.max(this.acked(), receipt.cursor)))
        this.saveState(afterSuccess())
        // The receiver is behind: resume from its cursor.
        if (receipt.cursor < row.seq) break
      }
    }
    if (this.pending() > 0) await this.ctx.storage.setAlarm(Date.now())
  }

  /**
   * The receiver needs transactions this outbox no longer holds. If it is
   * behind what it acknowledged, it lost its state: queue everything this
   * instance still has for it. Then move its cursor past the gap.
   */
  private async skipGap(domain: string, receipt: InboxReceipt, oldest: number): Promise<InboxReceipt> {
    if (receipt.cursor < this.acked()) {
      // The receiver lost its state, every lane's: this lane's share is queued here, the others' in
      // their own outboxes, which might otherwise have nothing to send that would find their gaps.
      const { here, elsewhere } = await recoveryByLane(this.env, domain, this.lane())
      await Promise.all(elsewhere.map((activity) => enqueue(this.env, domain, activity)))
      this.store(here.map(encodeActivity))
      this.setMeta('acked', String(receipt.cursor))
    }
    const gap = encodeActivity({ t: ActivityType.Gap, after: oldest - 1 })
    const tx = { seq: receipt.cursor + 1, id: newTransactionId(), at: Date.now() }
    const skipped = await this.send(domain, tx, gap)
    if (skipped.cursor < oldest - 1) throw new Error(`${domain} did not take the gap to ${oldest - 1}`)
    logLine('warn', 'federation gap', { domain, from: receipt.cursor, to: oldest - 1 })
    return skipped
  }

  private async send(domain: string, row: Omit<Row, 'activity'>, activity: Uint8Array): Promise<InboxReceipt> {
    const destination = await descriptorOf(this.env, domain)
    const body = encodeTransaction({
      id: row.id,
      from: edgeIdentity(this.env).did,
      to: destination.did,
      seq: row.seq,
      at: row.at,
      activity: decodeActivity(activity),
    })
    const lane = this.lane()
    const path = lane === 0 ? FEDERATION_INBOX_PATH : `${FEDERATION_INBOX_PATH}?lane=${lane}`
    const response = await sendSigned(this.env, domain, { method: 'POST', path, body })
    const text = await response.text()
    if (!response.ok) throw new Error(`${domain} answered ${response.status}: ${text.slice(0, 200)}`)
    const receipt = JSON.parse(text) as InboxReceipt
    if (!Number.isSafeInteger(receipt.cursor)) throw new Error(`${domain} answered without a cursor`)
    return receipt
  }

  /**
   * Once an outbox that had to refuse transactions (it was full) has
   * delivered everything it held, it queues what this instance has for the
   * destination (`recovery.ts`), which covers what it refused, as far as
   * rooms still keep it. True if it queued anything.
   */
  async refillAfterOverflow(domain: string): Promise<boolean> {
    if (this.meta('overflow') === null || this.pending() > 0) return false
    const activities = (await recoveryByLane(this.env, domain, this.lane())).here
    // Cleared only with what it queues, in one step: a failure on the way leaves it to the next alarm.
    const seqs = this.store(activities.map(encodeActivity))
    this.sql.exec("DELETE FROM meta WHERE key = 'overflow'")
    return seqs.length > 0
  }

  /** This outbox's lane (`lanes.ts`): 0 unless it was given one. */
  private lane(): number {
    return Number(this.meta('lane') ?? 0)
  }

  /** Writes activities with the next seqs, all in one synchronous step (so all or none are stored). */
  private store(activities: Uint8Array[]): number[] {
    if (this.pending() + activities.length > Limits.maxOutboxTransactions) {
      this.setMeta('overflow', String(Date.now()))
      throw new Error(`the outbox for ${this.meta('domain')} holds ${Limits.maxOutboxTransactions} transactions`)
    }
    const last = this.sql.exec<{ seq: number | null }>('SELECT MAX(seq) AS seq FROM txs').one().seq
    let next = Math.max(last ?? 0, Number(this.meta('next') ?? Date.now()))
    const seqs: number[] = []
    for (const activity of activities) {
      next++
      this.sql.exec(
        'INSERT INTO txs (seq, id, at, activity) VALUES (?, ?, ?, ?)',
        next,
        newTransactionId(),
        Date.now(),
        activity,
      )
      seqs.push(next)
    }
    this.setMeta('next', String(next))
    return seqs
  }

  /** The highest cursor the destination has answered with. */
  private acked(): number {
    return Number(this.meta('acked') ?? 0)
  }

  private pending(): number {
    return this.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM txs').one().n
  }

  private state(): DeliveryState {
    const raw = this.meta('delivery')
    return raw === null ? initialDelivery() : (JSON.parse(raw) as DeliveryState)
  }

  private saveState(state: DeliveryState): void {
    this.setMeta('delivery', JSON.stringify(state))
  }

  private meta(key: string): string | null {
    return this.sql.exec<{ value: string }>('SELECT value FROM meta WHERE key = ?', key).toArray()[0]?.value ?? null
  }

  private setMeta(key: string, value: string): void {
    this.sql.exec('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)', key, value)
  }
}
