/**
 * The runner's side of the sender worker threads (`sender-worker.ts`):
 * splits the senders over the threads (sender c to thread c mod threads),
 * starts them together and turns each request (start, check, close) into a
 * promise with a deadline (`bench/lib/worker-pool.ts`), so a stuck or
 * crashed thread fails the row instead of hanging the run.
 */
import { WorkerPool } from '../lib/worker-pool.ts'
import type { CheckReport, FromWorker, SenderReport, SenderSetup, ToWorker } from './load-protocol.ts'

/** Everything of a `SenderSetup` but the split: what sender c connects to and, in the rules benchmark, its DID. */
export interface SendersPlan extends Omit<SenderSetup, 'senders' | 'urls' | 'dids'> {
  workers: number
  urlOf(c: number): string
  /** Null for entries `{ c, n, t }`; else sender c's DID for the rules benchmark's messages. */
  didOf: ((c: number) => string) | null
}

/** The first check applies every queued update: seconds of Yjs work at high rates. */
const CHECK_TIMEOUT_MS = 60_000
const CLOSE_TIMEOUT_MS = 3_000

export class SenderPool {
  private readonly pool: WorkerPool<ToWorker, FromWorker>

  private constructor(pool: WorkerPool<ToWorker, FromWorker>) {
    this.pool = pool
  }

  /** Starts the threads and resolves once every sender is connected and synced. */
  static async open(plan: SendersPlan): Promise<SenderPool> {
    const { workers, urlOf, didOf, ...common } = plan
    const threads = Math.max(1, Math.min(workers, plan.totalSenders))
    const setups = Array.from({ length: threads }, (_, w): SenderSetup => {
      const senders = Array.from({ length: plan.totalSenders }, (_, c) => c).filter((c) => c % threads === w)
      return {
        ...common,
        senders,
        urls: senders.map(urlOf),
        dids: didOf === null ? null : senders.map(didOf),
        injectLoss: plan.injectLoss && w === 0,
      }
    })
    const script = new URL('./sender-worker.ts', import.meta.url)
    const readyMs = plan.connectTimeoutMs + 5_000
    const { pool } = await WorkerPool.open<ToWorker, FromWorker>(
      script,
      setups,
      'sender worker',
      readyMs,
      CLOSE_TIMEOUT_MS,
    )
    return new SenderPool(pool)
  }

  /** Starts sending at `startAt` and resolves with each thread's report once they stop at `stopAt`. */
  async run(startAt: number, measureFrom: number, stopAt: number): Promise<SenderReport[]> {
    const timeoutMs = stopAt - Date.now() + 15_000
    const replies = await this.pool.all({ type: 'start', startAt, measureFrom, stopAt }, 'stopped', timeoutMs)
    return replies.map((r) => r.report)
  }

  /** What each thread's clients lack against `expected` (updates per sender). */
  async check(expected: number[]): Promise<CheckReport[]> {
    const replies = await this.pool.all({ type: 'check', expected }, 'check', CHECK_TIMEOUT_MS)
    return replies.map((r) => r.report)
  }

  /** Closes every socket (bounded), then ends the threads. */
  close(): Promise<void> {
    return this.pool.close(CLOSE_TIMEOUT_MS)
  }
}
