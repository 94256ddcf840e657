/** Small statistics and number formatting for the benchmark tables. */

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

/** Milliseconds: one decimal under 100, whole numbers above. */
export function ms(value: number): string {
  if (!Number.isFinite(value)) return 'n/a'
  return value < 100 ? value.toFixed(1) : Math.round(value).toLocaleString('en-US')
}

export function count(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : 'n/a'
}

export function pct(fraction: number | null): string {
  return fraction === null || !Number.isFinite(fraction) ? 'n/a' : `${Math.round(fraction * 100)}%`
}

/** `value / reference` as "1.23x"; "n/a" when either is missing or the reference is 0. */
export function ratio(value: number, reference: number | undefined): string {
  if (reference === undefined || !Number.isFinite(value) || !Number.isFinite(reference) || reference === 0) return 'n/a'
  return `${(value / reference).toFixed(2)}x`
}

export function bytes(value: number): string {
  if (value >= 1024 * 1024) return `${(value / 1024 / 1024).toFixed(1)} MiB`
  if (value >= 1024) return `${(value / 1024).toFixed(1)} KiB`
  return `${value} B`
}
