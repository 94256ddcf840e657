/**
 * What the parts of the load generator agree on.
 *
 * The payload of every benchmark message is 12 bytes: its sequence number
 * (uint32, big-endian) and its scheduled send time (float64, ms since the
 * epoch on the `performance.timeOrigin + performance.now()` clock, which
 * every thread shares). Envelopes are signed before the run, so the time
 * embedded is the schedule's; the publisher sends each message at that time
 * or as soon after as it can, so latency counted from it includes any
 * lateness of the publisher (no coordinated omission), and the publisher
 * reports that lateness apart.
 *
 * Then the messages between the runner and its subscriber threads
 * (`subscriber-worker.ts`), which hold the subscriber sockets for a row.
 */

export const PAYLOAD_BYTES = 12

/** When message `seq` is due: `t0` plus `seq` intervals of the offered rate. */
export function scheduledAt(t0: number, ratePerS: number, seq: number): number {
  return t0 + (seq * 1000) / ratePerS
}

export function encodePayload(seq: number, sendAt: number): Uint8Array {
  const bytes = new Uint8Array(PAYLOAD_BYTES)
  const view = new DataView(bytes.buffer)
  view.setUint32(0, seq)
  view.setFloat64(4, sendAt)
  return bytes
}

export interface BenchPayload {
  readonly seq: number
  readonly sendAt: number
}

/** Reads a payload; null when it is not one of ours (wrong size). */
export function decodePayload(payload: Uint8Array): BenchPayload | null {
  if (payload.byteLength !== PAYLOAD_BYTES) return null
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength)
  return { seq: view.getUint32(0), sendAt: view.getFloat64(4) }
}

export interface SubscriberSetup {
  /** `ws://host:port/v1/topics/<topic>`. */
  readonly url: string
  /** Subscriber sockets this thread holds. */
  readonly count: number
  /** Most messages a row publishes: the size of each subscriber's seen-table. */
  readonly capacity: number
  readonly connectTimeoutMs: number
  /** Test hook: one subscriber ignores one message, so the completeness check must fail. */
  readonly injectLoss: boolean
}

/** What the publisher made of each sequence number, for the completeness check. */
export const Published = {
  /** Never sent. */
  None: 0,
  /** Sent, and acknowledged `ok` as newly stored: every subscriber must receive it exactly once. */
  Stored: 1,
  /** Sent, but no `ok` (or an `err`, or `dup`) came back by the end: ignored by the check. */
  Unconfirmed: 2,
} as const

export type ToSubscribers =
  | { type: 'window'; from: number; to: number }
  | { type: 'progress'; target: number }
  | { type: 'check'; published: Uint8Array }
  | { type: 'close' }

export interface SubscriberReport {
  subscribers: number
  /** Subscribers that received every stored message exactly once, in cursor order, and were not closed. */
  complete: number
  /** Stored messages a subscriber never received, summed over subscribers. */
  lost: number
  /** Extra copies received, summed over subscribers. */
  duplicates: number
  /** Frames whose cursor was not above the previous one. */
  reordered: number
  /** Cursors skipped between consecutive frames. */
  skippedCursors: number
  /** Messages that were never published (or not ours). */
  unexpected: number
  /** Frames other than `msg` and `live` (`gap`, `err`) or undecodable. */
  oddFrames: number
  /** Close code (and reason) → sockets the room closed. */
  closes: Record<string, number>
  /** Messages that arrived inside the measured window, all subscribers (a `msgs` frame counts its messages). */
  deliveredInWindow: number
  /** Frames carrying messages (`msg` or `msgs`) that arrived inside the window, all subscribers. */
  framesInWindow: number
  minPerSubscriberInWindow: number
  /** Latency histogram counts of messages scheduled inside the window. */
  histogram: Float64Array
  latencyMax: number
}

export type FromSubscribers =
  | { type: 'ready'; connectMs: number }
  | { type: 'progress'; behind: number; open: number }
  | { type: 'check'; report: SubscriberReport }
  | { type: 'closed' }
  | { type: 'error'; message: string }
