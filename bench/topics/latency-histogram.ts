/**
 * A mergeable latency histogram with buckets 1% apart, from 0.01 ms to far
 * beyond any run: a thousand subscribers each receiving thousands of
 * messages make millions of samples, too many to keep and sort, while a
 * histogram costs one `Math.log` per sample and merges across threads by
 * adding counts. Percentiles are the upper edge of their bucket (at most 1%
 * high), capped by the exact maximum.
 */

const BASE_MS = 0.01
const GROWTH = 1.01
const LOG_GROWTH = Math.log(GROWTH)
export const HISTOGRAM_BUCKETS = 2_400

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
