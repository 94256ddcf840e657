/**
 * The outbox's delivery state machine, pure so it is tested on its own:
 * exponential back-off with "equal jitter" (`@vivim/shared`'s `backoffCap` and `jittered`) (half the delay fixed, half
 * random, so retries of many outboxes spread out but never come early), and a
 * circuit breaker. After `threshold` failures in a row the breaker opens:
 * nothing is sent until the cool-down (the longest back-off) has passed,
 * then one transaction probes the destination (half-open); a success closes
 * the breaker, a failure opens it again.
 *
 * @example
 * ```ts
 * let s = initialDelivery()
 * s = afterFailure(s, Date.now(), { baseMs: 1000, maxMs: 60_000, threshold: 5 })
 * s.nextAt // between 500 and 1000 ms from now
 * ```
 */
import { backoffCap, jittered } from '@vivim/shared'

export type BreakerState = 'closed' | 'open' | 'half-open'

export interface DeliveryState {
  readonly failures: number
  readonly breaker: BreakerState
  /** No attempt before this time (ms since the epoch); 0 when one may go at once. */
  readonly nextAt: number
}

export interface DeliveryInit {
  readonly baseMs: number
  readonly maxMs: number
  /** Failures in a row that open the breaker. */
  readonly threshold: number
}

export function initialDelivery(): DeliveryState {
  return { failures: 0, breaker: 'closed', nextAt: 0 }
}

/** The delay before retry `failures` (1-based), before jitter. */
export function backoffDelay(failures: number, init: DeliveryInit): number {
  return backoffCap(failures - 1, { initialMs: init.baseMs, maxMs: init.maxMs })
}

export function afterFailure(
  state: DeliveryState,
  now: number,
  init: DeliveryInit,
  random: () => number = Math.random,
): DeliveryState {
  const failures = state.failures + 1
  const open = failures >= init.threshold
  const delay = open ? init.maxMs : backoffDelay(failures, init)
  return { failures, breaker: open ? 'open' : 'closed', nextAt: now + jittered(delay, { jitter: 'equal', random }) }
}

export function afterSuccess(): DeliveryState {
  return initialDelivery()
}

/**
 * What to do now: `wait` until `nextAt`, `send` normally, or `probe` with a
 * single transaction because the breaker's cool-down is over.
 */
export function nextStep(state: DeliveryState, now: number): { step: 'wait' | 'send' | 'probe'; state: DeliveryState } {
  if (now < state.nextAt) return { step: 'wait', state }
  if (state.breaker === 'open' || state.breaker === 'half-open') {
    return { step: 'probe', state: { ...state, breaker: 'half-open' } }
  }
  return { step: 'send', state }
}
