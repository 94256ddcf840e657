/**
 * Latency statistics for the benchmarks: percentiles of kept samples, and a
 * mergeable histogram for runs with too many samples to keep.
 *
 * `LatencyHistogram` has buckets 1% apart, from 0.01 ms to far beyond any
 * run: a thousand subscribers each receiving thousands of messages make
 * millions of samples, too many to keep and sort, while a histogram costs
 * one `Math.log` per sample and merges across threads by adding counts.
 * Its percentiles are the upper edge of their bucket (at most 1% high),
 * capped by the exact maximum.
 */

export interface LatencySummary {
  count: number
  p50: number
  p99: number
  max: number
}

/** Nearest-rank percentile of an ascending array; NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? Number.NaN
}

/**
 * The sample at index ⌊p% of the count⌋ of an ascending array (one rank above
 * `percentile` when p% of the count is whole): the indexer benchmark's
 * definition, kept so its figures compare with those it published. NaN when empty.
 */
export function indexPercentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number
}

/** Count, nearest-rank p50 and p99, and maximum of `values`. */
export function summarize(values: readonly number[]): LatencySummary {
  const sorted = Float64Array.from(values).sort()
  const list = Array.from(sorted)
  return {
    count: list.length,
    p50: percentile(list, 50),
    p99: percentile(list, 99),
    max: list.length === 0 ? Number.NaN : (list[list.length - 1] ?? Number.NaN),
  }
}

export function median(values: readonly number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  )
}

const BASE_MS = 0.01
const GROWTH = 1.01
const LOG_GROWTH = Math.log(GROWTH)
export const HISTOGRAM_BUCKETS = 2_400

/** Latencies in buckets 1% apart; merges across threads by adding counts. */
export class LatencyHistogram {
  readonly counts: Float64Array
  total = 0
  max = Number.NEGATIVE_INFINITY

  constructor(counts = new Float64Array(HISTOGRAM_BUCKETS)) {
    if (counts.length !== HISTOGRAM_BUCKETS) throw new Error(`a histogram has ${HISTOGRAM_BUCKETS} buckets`)
    this.counts = counts
    for (const c of counts) this.total += c
  }

  add(ms: number): void {
    const i = ms <= BASE_MS ? 0 : Math.min(HISTOGRAM_BUCKETS - 1, Math.ceil(Math.log(ms / BASE_MS) / LOG_GROWTH))
    this.counts[i] = (this.counts[i] ?? 0) + 1
    this.total++
    if (ms > this.max) this.max = ms
  }

  merge(counts: Float64Array, max: number): void {
    for (let i = 0; i < HISTOGRAM_BUCKETS; i++) {
      const c = counts[i] ?? 0
      this.counts[i] = (this.counts[i] ?? 0) + c
      this.total += c
    }
    if (max > this.max) this.max = max
  }

  /** Nearest-rank percentile in ms; NaN when empty. */
  percentile(p: number): number {
    if (this.total === 0) return Number.NaN
    const rank = Math.max(1, Math.ceil((p / 100) * this.total))
    let seen = 0
    for (let i = 0; i < HISTOGRAM_BUCKETS; i++) {
      seen += this.counts[i] ?? 0
      if (seen >= rank) return Math.min(BASE_MS * GROWTH ** i, this.max)
    }
    return this.max
  }
}
