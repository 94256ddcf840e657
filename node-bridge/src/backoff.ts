/**
 * Reconnect delays: exponential with full jitter (a random delay between 0
 * and the cap of the attempt), so bridges that lost the same edge at once do
 * not come back in lockstep. Reset after a connection stayed open.
 *
 * @example
 * ```ts
 * const backoff = new Backoff({ initialMs: 500, maxMs: 30_000 })
 * setTimeout(reconnect, backoff.next()) // 0-500 ms, then 0-1000 ms, … up to 0-30 s
 * ```
 */
export interface BackoffInit {
  initialMs: number
  maxMs: number
  /** Random numbers in [0, 1); `Math.random` by default. */
  random?: () => number
}

/**
 * Reconnect delays, exponential with full jitter.
 *
 * @example
 * ```ts
 * const backoff = new Backoff({ initialMs: 500, maxMs: 30_000 })
 * setTimeout(reconnect, backoff.next()) // 0-500 ms, then 0-1000 ms, … up to 0-30 s
 * ```
 */
export class Backoff {
  private readonly init: BackoffInit
  private attempt = 0

  constructor(init: BackoffInit) {
    this.init = init
  }

  /** How many delays were handed out since the last reset. */
  get attempts(): number {
    return this.attempt
  }

  /** The delay before the next attempt, in ms. */
  next(): number {
    const cap = Math.min(this.init.maxMs, this.init.initialMs * 2 ** Math.min(this.attempt, 30))
    this.attempt++
    return Math.floor((this.init.random ?? Math.random)() * cap)
  }

  /** Starts again from the first delay (after a connection that held). */
  reset(): void {
    this.attempt = 0
  }
}
