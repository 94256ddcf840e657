/**
 * What the soak's workload measures, gathered in one place and taken once a
 * minute: latencies per kind (each minute's own percentiles, so a slow
 * minute shows rather than being averaged away), operation counts, errors by
 * what failed, and the sockets the clients hold open. Sockets are counted by
 * the WebSocket class handed to the SDK (`countingWebSocket`): the SDK
 * reconnects on its own, so only the socket itself knows whether it is open.
 */
import { type LatencySummary, summarize } from '../lib/stats.ts'

/** The latencies the soak reports. */
export type LatencyKind = 'doc' | 'topic' | 'recordPut' | 'recordGet'

/** One minute of the workload. */
export interface MinuteFigures {
  latency: Record<LatencyKind, LatencySummary>
  /** Operations by name (`doc writes`, `doc deliveries`, `publishes`, ...). */
  counts: Record<string, number>
  /** Errors by what failed and its code. */
  errors: Record<string, number>
}

const KINDS: readonly LatencyKind[] = ['doc', 'topic', 'recordPut', 'recordGet']

/** Latencies, counts and errors of the current minute, plus the sockets open now. */
export class Meter {
  private latencies = new Map<LatencyKind, number[]>()
  private counts = new Map<string, number>()
  private errors = new Map<string, number>()
  /** Open sockets by kind (`docs`, `topics`). */
  private readonly open = new Map<string, number>()

  latency(kind: LatencyKind, ms: number): void {
    const list = this.latencies.get(kind)
    if (list === undefined) this.latencies.set(kind, [ms])
    else list.push(ms)
  }

  count(name: string, n = 1): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + n)
  }

  /** Counts an error under `what` (the operation) and its code or message. */
  error(what: string, error: unknown): void {
    const code = (error as { code?: unknown } | null)?.code
    const why = typeof code === 'string' ? code : error instanceof Error ? error.message.slice(0, 60) : String(error)
    const key = `${what}: ${why}`
    this.errors.set(key, (this.errors.get(key) ?? 0) + 1)
  }

  /** The sockets of `kind` open now. */
  sockets(kind: string): number {
    return this.open.get(kind) ?? 0
  }

  /** This minute's figures; the next minute starts empty. */
  take(): MinuteFigures {
    const latency = Object.fromEntries(KINDS.map((k) => [k, summarize(this.latencies.get(k) ?? [])])) as Record<
      LatencyKind,
      LatencySummary
    >
    const figures = { latency, counts: Object.fromEntries(this.counts), errors: Object.fromEntries(this.errors) }
    this.latencies = new Map()
    this.counts = new Map()
    this.errors = new Map()
    return figures
  }

  /**
   * A WebSocket class for the SDK (`WebSocket` in a provider's or a subscription's options) that
   * keeps `sockets(kind)` equal to how many of its sockets are open.
   */
  countingWebSocket(kind: string): typeof WebSocket {
    const open = this.open
    const change = (by: number) => open.set(kind, (open.get(kind) ?? 0) + by)
    return class CountedWebSocket extends WebSocket {
      constructor(...args: ConstructorParameters<typeof WebSocket>) {
        super(...args)
        let opened = false
        this.addEventListener('open', () => {
          opened = true
          change(1)
        })
        this.addEventListener('close', () => {
          if (opened) change(-1)
          opened = false
        })
      }
    }
  }
}

/**
 * Runs `action` `perSecond` times a second until the returned stop is called, with at most
 * `maxInFlight` unfinished at once: a call due while that many are pending is skipped and
 * counted as `<name> skipped`, so a slow edge is not buried under a growing queue the soak made.
 */
export function paced(
  meter: Meter,
  name: string,
  perSecond: number,
  action: () => Promise<void>,
  maxInFlight = 50,
): () => void {
  if (perSecond <= 0) return () => {}
  let inFlight = 0
  const timer = setInterval(() => {
    if (inFlight >= maxInFlight) return meter.count(`${name} skipped`)
    inFlight++
    action()
      .catch((error) => meter.error(name, error))
      .finally(() => inFlight--)
  }, 1000 / perSecond)
  return () => clearInterval(timer)
}
