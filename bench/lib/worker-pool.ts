/**
 * A load-generator worker thread spoken to one request at a time: each
 * request waits for one reply of a named type, with a deadline, and any
 * error or exit of the thread fails what is waiting and every later request.
 * The document benchmarks' sender pools (`sender-pool.ts`, `rules-row.ts`)
 * share it.
 */
import { Worker } from 'node:worker_threads'

export class WorkerThread<To, From extends { type: string }> {
  readonly worker: Worker
  private waiting: { type: From['type']; resolve: (m: From) => void; reject: (e: Error) => void } | null = null
  private failure: Error | null = null

  /** Starts the thread at `script` with `setup` as its `workerData`. */
  constructor(script: URL, setup: unknown) {
    this.worker = new Worker(script, { workerData: setup })
    this.worker.on('message', (message: From) => {
      if (message.type === 'error') {
        return this.fail(new Error(`sender worker: ${(message as unknown as { message: string }).message}`))
      }
      if (this.waiting?.type === message.type) {
        const { resolve } = this.waiting
        this.waiting = null
        resolve(message)
      }
    })
    this.worker.on('error', (error) => this.fail(error))
    this.worker.on('exit', (code) => this.fail(new Error(`sender worker exited with code ${code}`)))
  }

  /** Posts `message` (unless null) and resolves with the next reply of type `reply`. */
  request<T extends From['type']>(
    message: To | null,
    reply: T,
    timeoutMs: number,
  ): Promise<Extract<From, { type: T }>> {
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
          resolve(m as Extract<From, { type: T }>)
        },
        reject: (e) => {
          clearTimeout(timer)
          reject(e)
        },
      }
      if (message !== null) this.worker.postMessage(message)
    })
  }

  terminate(): Promise<number> {
    return this.worker.terminate()
  }

  private fail(error: Error): void {
    this.failure ??= error
    const waiting = this.waiting
    this.waiting = null
    waiting?.reject(error)
  }
}
