/**
 * The SDK's reconnect policy: delays from `@vivim/shared`'s `Backoff` with
 * full jitter, 0-250 ms after the first drop, doubling to at most 0-30 s, so
 * clients a failing edge dropped at once do not all come back at once. Every
 * reconnecting part of the SDK (documents, sealed documents, topics) uses it.
 *
 * @example
 * ```ts
 * const backoff = reconnectBackoff()
 * setTimeout(reconnect, backoff.next())
 * ```
 */
import { Backoff } from '@vivim/shared'

/** The first reconnect's cap and the largest, ms. */
export const RECONNECT_INITIAL_MS = 250
export const RECONNECT_MAX_MS = 30_000

/** A fresh reconnect schedule (full jitter). */
export function reconnectBackoff(): Backoff {
  return new Backoff({ initialMs: RECONNECT_INITIAL_MS, maxMs: RECONNECT_MAX_MS })
}
