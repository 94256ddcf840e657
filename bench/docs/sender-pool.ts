/**
 * The runner's side of the sender worker threads: splits the senders over
 * the workers, and turns each request (start, check, close) into a promise
 * with a deadline, so a stuck or crashed worker fails the row instead of
 * hanging the run.
 */
import { Worker } from 'node:worker_threads'
import type { CheckReport, FromWorker, SenderReport, SenderSetup, ToWorker } from './load-protocol.ts'
import type { Dialect } from './wire-dialects.ts'

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

type Reply<T extends FromWorker['type']> = Extract<FromWorker, { type: T }>

class SenderThread {
  readonly worker: Worker
  private waiting: { type: FromWorker['type']; resolve: (m: FromWorker) => void; reject: (e: Error) => void } | null =
    null
  private failure: Error | null = null

  constructor(setup: SenderSetup) {
    this.worker = new Worker(new URL('./sender-worker.ts', import.meta.url), { workerData: setup })
    this.worker.on('message', (message: FromWorker) => {
      if (message.type === 'error') return this.fail(new Error(`sender worker: ${message.message}`))
      if (this.waiting?.type === message.type) {
        const { resolve } = this.waiting
        this.waiting = null
        resolve(message)
      }
    })
    this.worker.on('error', (error) => this.fail(error))
    this.worker.on('exit', (code) => this.fail(new Error(`sender worker exited with code ${code}`)))
  }

  request<T extends FromWorker['type']>(message: ToWorker | null, reply: T, timeoutMs: number): Promise<Reply<T>> {
    if (this.failure !== null) return Promise.reject(this.failure)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = null
        reject(new Error(`sender worker: no '${reply}' within ${timeoutMs} ms`))
      }, timeoutMs)
      this.waiting = {
        type: reply,
        resolve: (m) => {
          clearTimeout(timer)
          resolve(m as Reply<T>)
        },
        reject: (e) => {
          clearTimeout(timer)
          reject(e)
        },
      }
      if (message !== null) this.worker.postMessage(message)
    })
  }

  private fail(error: Error): void {
    this.failure ??= error
    const waiting = this.waiting
    this.waiting = null
    waiting?.reject(error)
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
