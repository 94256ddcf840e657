/**
 * The runner's side of the subscriber threads: splits a row's subscribers
 * over the threads and turns each request (window, progress, check, close)
 * into a promise with a deadline, so a stuck or crashed thread fails the row
 * instead of hanging the run.
 */
import { Worker } from 'node:worker_threads'
import { sleep } from '../docs/child-processes.ts'
import type { FromSubscribers, SubscriberReport, SubscriberSetup, ToSubscribers } from './bench-protocol.ts'

type Reply<T extends FromSubscribers['type']> = Extract<FromSubscribers, { type: T }>

const CHECK_TIMEOUT_MS = 20_000
const PROGRESS_TIMEOUT_MS = 5_000
const PROGRESS_EVERY_MS = 200

class SubscriberThread {
  readonly worker: Worker
  private waiting: {
    type: FromSubscribers['type']
    resolve: (m: FromSubscribers) => void
    reject: (e: Error) => void
  } | null = null
  private failure: Error | null = null

  constructor(setup: SubscriberSetup) {
    this.worker = new Worker(new URL('./subscriber-worker.ts', import.meta.url), { workerData: setup })
    this.worker.on('message', (message: FromSubscribers) => {
      if (message.type === 'error') return this.fail(new Error(`subscriber thread: ${message.message}`))
      if (this.waiting?.type === message.type) {
        const { resolve } = this.waiting
        this.waiting = null
        resolve(message)
      }
    })
    this.worker.on('error', (error) => this.fail(error))
    this.worker.on('exit', (code) => this.fail(new Error(`subscriber thread exited with code ${code}`)))
  }

  send(message: ToSubscribers): void {
    this.worker.postMessage(message)
  }

  request<T extends FromSubscribers['type']>(message: ToSubscribers | null, reply: T, timeoutMs: number) {
    if (this.failure !== null) return Promise.reject(this.failure)
    return new Promise<Reply<T>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = null
        reject(new Error(`subscriber thread: no '${reply}' within ${timeoutMs} ms`))
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
      if (message !== null) this.send(message)
    })
  }

  private fail(error: Error): void {
    this.failure ??= error
    const waiting = this.waiting
    this.waiting = null
    waiting?.reject(error)
  }
}

export interface PoolOptions {
  url: string
  subscribers: number
  threads: number
  capacity: number
  connectTimeoutMs: number
  injectLoss: boolean
}

export class SubscriberPool {
  private readonly threads: SubscriberThread[]
  connectMs = 0

  private constructor(options: PoolOptions) {
    const count = Math.max(1, Math.min(options.threads, options.subscribers))
    this.threads = Array.from(
      { length: count },
      (_, i) =>
        new SubscriberThread({
          url: options.url,
          count: Math.floor(options.subscribers / count) + (i < options.subscribers % count ? 1 : 0),
          capacity: options.capacity,
          connectTimeoutMs: options.connectTimeoutMs,
          injectLoss: options.injectLoss && i === 0,
        }),
    )
  }

  /** Starts the threads; resolves once every subscriber has its `live` frame. */
  static async open(options: PoolOptions): Promise<SubscriberPool> {
    const pool = new SubscriberPool(options)
    try {
      const ready = await Promise.all(
        pool.threads.map((t) => t.request(null, 'ready', options.connectTimeoutMs + 5_000)),
      )
      pool.connectMs = Math.max(...ready.map((r) => r.connectMs))
    } catch (error) {
      await pool.close()
      throw error
    }
    return pool
  }

  /** Tells the threads which send times and arrival times count as the measured window. */
  setWindow(from: number, to: number): void {
    for (const t of this.threads) t.send({ type: 'window', from, to })
  }

  /** Waits until every open subscriber has cursor `target`, or `deadline` (ms since epoch); returns those behind. */
  async waitCaughtUp(target: number, deadline: number): Promise<number> {
    let behind = Number.POSITIVE_INFINITY
    for (let i = 0; i < 10_000; i++) {
      const replies = await Promise.all(
        this.threads.map((t) => t.request({ type: 'progress', target }, 'progress', PROGRESS_TIMEOUT_MS)),
      )
      behind = replies.reduce((sum, r) => sum + r.behind, 0)
      if (behind === 0 || Date.now() >= deadline) break
      await sleep(PROGRESS_EVERY_MS)
    }
    return behind
  }

  async check(published: Uint8Array): Promise<SubscriberReport[]> {
    const replies = await Promise.all(
      this.threads.map((t) => t.request({ type: 'check', published }, 'check', CHECK_TIMEOUT_MS)),
    )
    return replies.map((r) => r.report)
  }

  /** Closes every socket (bounded), then ends the threads. */
  async close(): Promise<void> {
    await Promise.allSettled(this.threads.map((t) => t.request({ type: 'close' }, 'closed', 5_000)))
    await Promise.allSettled(this.threads.map((t) => t.worker.terminate()))
  }
}
