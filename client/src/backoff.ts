/**
 * Reconnect delays: exponential from `baseMs` to `maxMs`, each drawn at
 * random below its cap ("full jitter"), so clients a failing edge dropped at
 * once do not all come back at once.
 */
export class Backoff {
  private attempts = 0
  private readonly baseMs: number
  private readonly maxMs: number

  constructor(baseMs = 250, maxMs = 30_000) {
    this.baseMs = baseMs
    this.maxMs = maxMs
  }

  next(): number {
    const cap = Math.min(this.maxMs, this.baseMs * 2 ** this.attempts)
    this.attempts = Math.min(this.attempts + 1, 30)
    return Math.random() * cap
  }

  reset(): void {
    this.attempts = 0
  }
}
