/**
 * The byte budget of one signaling socket: a token bucket of
 * `Limits.signalingByteBurst` bytes refilled at
 * `Limits.maxSignalingBytesPerSecond`, so one client relaying large
 * messages cannot take the hub's time from every other room. In memory
 * only: a hub waking from hibernation starts each socket with a full
 * bucket, which the frame budget still bounds.
 */
import { Limits } from '@vivim/shared'

export class ByteBudget {
  private available: number = Limits.signalingByteBurst
  private updatedAt = Date.now()

  /** Spends `bytes`; false (and nothing spent) when the socket is past its budget. */
  take(bytes: number): boolean {
    const now = Date.now()
    this.available = Math.min(
      Limits.signalingByteBurst,
      this.available + ((now - this.updatedAt) / 1000) * Limits.maxSignalingBytesPerSecond,
    )
    this.updatedAt = now
    if (bytes > this.available) return false
    this.available -= bytes
    return true
  }
}

const budgets = new WeakMap<WebSocket, ByteBudget>()

/** The socket's byte budget. */
export function byteBudget(ws: WebSocket): ByteBudget {
  let budget = budgets.get(ws)
  if (!budget) {
    budget = new ByteBudget()
    budgets.set(ws, budget)
  }
  return budget
}

const encoder = new TextEncoder()

/** The UTF-8 length of a text frame, which is what crossed the wire. */
export function utf8Length(text: string): number {
  return encoder.encode(text).byteLength
}
