/**
 * The byte budget of one signaling socket: a token bucket of
 * `Limits.signalingByteBurst` bytes refilled at
 * `Limits.maxSignalingBytesPerSecond`, so one client relaying large
 * messages cannot take its rooms' objects' time from their other members.
 * In memory: the Worker that holds the socket keeps it for the socket's
 * life.
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
