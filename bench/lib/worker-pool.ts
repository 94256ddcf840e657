/**
 * Load-generator worker threads, spoken to one request at a time: each
 * request waits for one reply of a named type, with a deadline, and any
 * error or exit of a thread fails what is waiting and every later request,
 * so a stuck or crashed thread fails its row instead of hanging the run.
 * A pool starts its threads together, waits until each says `ready`, asks
 * them all the same thing and closes them within a bound.
 *
 * A thread's messages carry a `type`; it answers `{ type: 'error', message }`
 * when something fails inside it. Every thread shares the clock `now()`.
 */
import { Worker } from 'node:worker_threads'

/** The clock every thread of the load generator shares: ms since the epoch, to the microsecond. */
export const now = (): number => performance.timeOrigin + performance.now()

type Reply<From, T> = Extract<From, { type: T }>

/** One worker thread at `script`, started with `setup` as its `workerData`. */
export class WorkerThread<To, From extends { type: string }> {
  readonly worker: Worker
  /** The thread's name in errors. */
  private readonly label: string
  private waiting: { type: From['type']; resolve: (m: From) => void; reject: (e: Error) => void } | null = null
  private failure: Error | null = null

  constructor(script: URL, setup: unknown, label: string) {
    this.label = label
    this.worker = new Worker(script, { workerData: setup })
    this.worker.on('message', (message: From) => {
      if (message.type === 'error') {
        return this.fail(new Error(`${label}: ${(message as unknown as { message: string }).message}`))
      }
      if (this.waiting?.type === message.type) {
        const { resolve } = this.waiting
        this.waiting = null
        resolve(message)
      }
    })
    this.worker.on('error', (error) => this.fail(error))
    this.worker.on('exit', (code) => this.fail(new Error(`${label} exited with code ${code}`)))
  }

  /** Posts `message` without waiting for a reply. */
  send(message: To): void {
    this.worker.postMessage(message)
  }

  /** Posts `message` (unless null) and resolves with the next reply of type `reply`. */
  request<T extends From['type']>(message: To | null, reply: T, timeoutMs: number): Promise<Reply<From, T>> {
    if (this.failure !== null) return Promise.reject(this.failure)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = null
        reject(new Error(`${this.label}: no '${reply}' within ${timeoutMs} ms`))
      }, timeoutMs)
      this.waiting = {
        type: reply,
        resolve: (m) => {
          clearTimeout(timer)
          resolve(m as Reply<From, T>)
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

/** Threads of one script, each with its own setup, asked together; `{ type: 'close' }` closes one. */
export class WorkerPool<To extends { type: string }, From extends { type: string }> {
  readonly threads: readonly WorkerThread<To, From>[]

  private constructor(threads: readonly WorkerThread<To, From>[]) {
    this.threads = threads
  }

  /**
   * Starts one thread of `script` per setup and resolves once each has answered `ready` within
   * `readyTimeoutMs`; closes them all (within `closeTimeoutMs`) if one does not.
   */
  static async open<To extends { type: string }, From extends { type: string }>(
    script: URL,
    setups: readonly unknown[],
    label: string,
    readyTimeoutMs: number,
    closeTimeoutMs: number,
  ): Promise<{ pool: WorkerPool<To, From>; ready: Reply<From, 'ready'>[] }> {
    const pool = new WorkerPool<To, From>(setups.map((setup) => new WorkerThread<To, From>(script, setup, label)))
    try {
      const ready = await Promise.all(pool.threads.map((t) => t.request(null, 'ready', readyTimeoutMs)))
      return { pool, ready }
    } catch (error) {
      await pool.close(closeTimeoutMs)
      throw error
    }
  }

  /** Posts `message` to every thread without waiting. */
  send(message: To): void {
    for (const t of this.threads) t.send(message)
  }

  /** Posts `message` to every thread and resolves with each one's reply of type `reply`, in thread order. */
  all<T extends From['type']>(message: To, reply: T, timeoutMs: number): Promise<Reply<From, T>[]> {
    return Promise.all(this.threads.map((t) => t.request(message, reply, timeoutMs)))
  }

  /** Asks every thread to `close` (answered `closed`, bounded by `timeoutMs`), then ends the threads. */
  async close(timeoutMs: number): Promise<void> {
    const message = { type: 'close' } as To
    await Promise.allSettled(this.threads.map((t) => t.request(message, 'closed', timeoutMs)))
    await Promise.allSettled(this.threads.map((t) => t.worker.terminate()))
  }
}
