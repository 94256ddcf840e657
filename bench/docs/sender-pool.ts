/**
 * The runner's side of the sender worker threads: splits the senders over
 * the workers, and turns each request (start, check, close) into a promise
 * with a deadline, so a stuck or crashed worker fails the row instead of
 * hanging the run.
 */
import type { CheckReport, FromWorker, SenderReport, SenderSetup, ToWorker } from './load-protocol.ts'
import type { Dialect } from './wire-dialects.ts'
import { WorkerThread } from './worker-thread.ts'

export interface PoolOptions {
  url: string
  dialect: Dialect
  documentName: string
  senders: number
  workers: number
  ratePerSender: number
  connectTimeoutMs: number
  injectLoss: boolean
}

/** The first check applies every queued update: seconds of Yjs work at high rates. */
const CHECK_TIMEOUT_MS = 60_000

/** A sender thread of `sender-worker.ts`. */
class SenderThread extends WorkerThread<ToWorker, FromWorker> {
  constructor(setup: SenderSetup) {
    super(new URL('./sender-worker.ts', import.meta.url), setup)
  }
}

export class SenderPool {
  private readonly threads: SenderThread[]
  readonly assignment: number[][]

  private constructor(options: PoolOptions) {
    const count = Math.max(1, Math.min(options.workers, options.senders))
    this.assignment = Array.from({ length: count }, (_, w) =>
      Array.from({ length: options.senders }, (_, c) => c).filter((c) => c % count === w),
    )
    this.threads = this.assignment.map(
      (senders, w) =>
        new SenderThread({
          url: options.url,
          dialect: options.dialect,
          documentName: options.documentName,
          senders,
          totalSenders: options.senders,
          ratePerSender: options.ratePerSender,
          connectTimeoutMs: options.connectTimeoutMs,
          injectLoss: options.injectLoss && w === 0,
        }),
    )
  }

  /** Starts the workers and resolves once every sender is connected and synced. */
  static async open(options: PoolOptions): Promise<SenderPool> {
    const pool = new SenderPool(options)
    try {
      await Promise.all(pool.threads.map((t) => t.request(null, 'ready', options.connectTimeoutMs + 5_000)))
    } catch (error) {
      await pool.close()
      throw error
    }
    return pool
  }

  async run(startAt: number, measureFrom: number, stopAt: number): Promise<SenderReport[]> {
    const timeoutMs = stopAt - Date.now() + 15_000
    const replies = await Promise.all(
      this.threads.map((t) => t.request({ type: 'start', startAt, measureFrom, stopAt }, 'stopped', timeoutMs)),
    )
    return replies.map((r) => r.report)
  }

  async check(expected: number[]): Promise<CheckReport[]> {
    const replies = await Promise.all(
      this.threads.map((t) => t.request({ type: 'check', expected }, 'check', CHECK_TIMEOUT_MS)),
    )
    return replies.map((r) => r.report)
  }

  /** Closes every socket (bounded), then ends the threads. */
  async close(): Promise<void> {
    await Promise.allSettled(this.threads.map((t) => t.request({ type: 'close' }, 'closed', 3_000)))
    await Promise.allSettled(this.threads.map((t) => t.worker.terminate()))
  }
}
