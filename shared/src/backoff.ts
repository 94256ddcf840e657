/**
 * Retry delays, exponential from `initialMs` to `maxMs`, with jitter: one
 * implementation for every part that retries (the SDK's sockets, the
 * bridge's edge link, federation's outboxes).
 *
 * - `full` jitter (the default): a random delay between 0 and the attempt's
 *   cap, so clients a failing server dropped at once do not all come back at
 *   once. For reconnects.
 * - `equal` jitter: half the cap fixed, half random, so retries spread out
 *   but never come early. For deliveries that must not hammer a peer.
 *
 * @example
 * ```ts
 * import { Backoff } from '@vivim/shared'
 * const backoff = new Backoff({ initialMs: 500, maxMs: 30_000 })
 * setTimeout(reconnect, backoff.next()) // 0-500 ms, then 0-1000 ms, … up to 0-30 s
 * backoff.reset() // after a connection that held
 * ```
 */

export interface BackoffInit {
  /** The first attempt's cap, ms. */
  readonly initialMs: number
  /** The largest cap, ms. */
  readonly maxMs: number
  /** `full` (0 to the cap, the default) or `equal` (half the cap to the cap). */
  readonly jitter?: 'full' | 'equal'
  /** Random numbers in [0, 1); `Math.random` by default. */
  readonly random?: () => number
}

/** The cap of attempt `attempt` (0-based): `initialMs` doubled per attempt, at most `maxMs`. */
export function backoffCap(attempt: number, init: Pick<BackoffInit, 'initialMs' | 'maxMs'>): number {
  return Math.min(init.maxMs, init.initialMs * 2 ** Math.min(Math.max(attempt, 0), 30))
}

/** A delay drawn below `cap` with the jitter of `init`, whole ms. */
export function jittered(cap: number, init: Pick<BackoffInit, 'jitter' | 'random'> = {}): number {
  const r = (init.random ?? Math.random)()
  return init.jitter === 'equal' ? Math.ceil(cap / 2 + (r * cap) / 2) : Math.floor(r * cap)
}

/**
 * Successive retry delays.
 *
 * @example
 * ```ts
 * const backoff = new Backoff({ initialMs: 250, maxMs: 30_000 })
 * backoff.next() // 0-250 ms
 * backoff.next() // 0-500 ms
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
    const delay = jittered(backoffCap(this.attempt, this.init), this.init)
    this.attempt++
    return delay
  }

  /** Starts again from the first delay (after a connection that held). */
  reset(): void {
    this.attempt = 0
  }
}
