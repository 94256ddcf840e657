/**
 * The runner's side of the subscriber threads (`subscriber-worker.ts`):
 * splits a row's subscribers over the threads, starts them together and
 * turns each request (window, progress, check, close) into a promise with a
 * deadline (`bench/lib/worker-pool.ts`), so a stuck or crashed thread fails
 * the row instead of hanging the run.
 */
import { sleep } from '../lib/child-process.ts'
import { WorkerPool } from '../lib/worker-pool.ts'
import type { FromSubscribers, SubscriberReport, SubscriberSetup, ToSubscribers } from './bench-protocol.ts'

const CHECK_TIMEOUT_MS = 20_000
const CLOSE_TIMEOUT_MS = 5_000
// A thread working through thousands of subscribers' backlog answers late; only a stuck one should fail the row.
const PROGRESS_TIMEOUT_MS = 30_000
const PROGRESS_EVERY_MS = 200

export interface PoolOptions {
  url: string
  subscribers: number
  threads: number
  capacity: number
  connectTimeoutMs: number
  injectLoss: boolean
}

export class SubscriberPool {
  private readonly pool: WorkerPool<ToSubscribers, FromSubscribers>
  /** How long the slowest thread took to connect all its subscribers. */
  readonly connectMs: number

  private constructor(pool: WorkerPool<ToSubscribers, FromSubscribers>, connectMs: number) {
    this.pool = pool
    this.connectMs = connectMs
  }

  /** Starts the threads; resolves once every subscriber has its `live` frame. */
  static async open(options: PoolOptions): Promise<SubscriberPool> {
    const count = Math.max(1, Math.min(options.threads, options.subscribers))
    const setups = Array.from(
      { length: count },
      (_, i): SubscriberSetup => ({
        url: options.url,
        count: Math.floor(options.subscribers / count) + (i < options.subscribers % count ? 1 : 0),
        capacity: options.capacity,
        connectTimeoutMs: options.connectTimeoutMs,
        injectLoss: options.injectLoss && i === 0,
      }),
    )
    const script = new URL('./subscriber-worker.ts', import.meta.url)
    const readyMs = options.connectTimeoutMs + 5_000
    const { pool, ready } = await WorkerPool.open<ToSubscribers, FromSubscribers>(
      script,
      setups,
      'subscriber thread',
      readyMs,
      CLOSE_TIMEOUT_MS,
    )
    return new SubscriberPool(pool, Math.max(...ready.map((r) => r.connectMs)))
  }

  /** Tells the threads which send times and arrival times count as the measured window. */
  setWindow(from: number, to: number): void {
    this.pool.send({ type: 'window', from, to })
  }

  /** Waits until every open subscriber has cursor `target`, or `deadline` (ms since epoch); returns those behind. */
  async waitCaughtUp(target: number, deadline: number): Promise<number> {
    let behind = Number.POSITIVE_INFINITY
    for (let i = 0; i < 10_000; i++) {
      const replies = await this.pool.all({ type: 'progress', target }, 'progress', PROGRESS_TIMEOUT_MS)
      behind = replies.reduce((sum, r) => sum + r.behind, 0)
      if (behind === 0 || Date.now() >= deadline) break
      await sleep(PROGRESS_EVERY_MS)
    }
    return behind
  }

  async check(published: Uint8Array): Promise<SubscriberReport[]> {
    const replies = await this.pool.all({ type: 'check', published }, 'check', CHECK_TIMEOUT_MS)
    return replies.map((r) => r.report)
  }

  /** Closes every socket (bounded), then ends the threads. */
  close(): Promise<void> {
    return this.pool.close(CLOSE_TIMEOUT_MS)
  }
}
