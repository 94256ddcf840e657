/**
 * The soak's verdict, computed from the samples by one stated rule (`RULE`),
 * per series: does it grow over the run, and if so does the growth level
 * off? A soak fails on growth that is still going at the end, since that is
 * what would exhaust an object's memory or a host's sockets given time;
 * growth that stops (caches filling, the runtime's heap settling) is the
 * normal shape of a warming server.
 */
import { median } from '../lib/stats.ts'
import { type Sample, SERIES, type Series } from './minute-sample.ts'

/** The rule, as the report states it. */
export const RULE =
  'Minute 0 (before any load) is left out; the other minutes are cut in thirds. A series **grows** when the ' +
  'median of its last third is above the median of its first third by more than 10% and by more than its ' +
  'noise floor. Growth **levels off** when the last third, fitted with a least-squares line, rises by less ' +
  'than the noise floor over its span, or its slope is at most a quarter of the first third’s. A series ' +
  'that grows and does not level off is **still growing**: the soak fails on it.'

/** What the rule found for one series. */
export interface SeriesVerdict {
  readonly series: Series
  readonly first: number
  readonly last: number
  /** Least-squares slopes of the first and last thirds, per 10 minutes. */
  readonly slopeFirst: number
  readonly slopeLast: number
  readonly outcome: 'flat' | 'levels off' | 'still growing' | 'too short'
}

/** Least-squares slope of `ys` over `xs`, per unit of x; 0 with fewer than two points. */
function slope(points: readonly [number, number][]): number {
  if (points.length < 2) return 0
  const mx = points.reduce((a, [x]) => a + x, 0) / points.length
  const my = points.reduce((a, [, y]) => a + y, 0) / points.length
  let num = 0
  let den = 0
  for (const [x, y] of points) {
    num += (x - mx) * (y - my)
    den += (x - mx) ** 2
  }
  return den === 0 ? 0 : num / den
}

/** The rule applied to one series of the samples after minute 0. */
export function judge(series: Series, samples: readonly Sample[]): SeriesVerdict {
  const points = samples
    .filter((s) => s.minute > 0)
    .flatMap((s): [number, number][] => {
      const v = series.value(s)
      return v === null ? [] : [[s.minute, v]]
    })
  const third = Math.floor(points.length / 3)
  const head = points.slice(0, third)
  const tail = points.slice(points.length - third)
  const first = median(head.map(([, y]) => y))
  const last = median(tail.map(([, y]) => y))
  const slopeFirst = slope(head) * 10
  const slopeLast = slope(tail) * 10
  const base = { series, first, last, slopeFirst, slopeLast }
  if (third < 2) return { ...base, outcome: 'too short' }
  const grows = last - first > Math.max(0.1 * Math.abs(first), series.floor)
  if (!grows) return { ...base, outcome: 'flat' }
  const span = (tail.at(-1)?.[0] ?? 0) - (tail[0]?.[0] ?? 0)
  const settled = (slopeLast / 10) * span < series.floor || slopeLast <= slopeFirst / 4
  return { ...base, outcome: settled ? 'levels off' : 'still growing' }
}

/** Every series judged, and whether the soak passes (no series still growing). */
export function verdict(samples: readonly Sample[]): { rows: SeriesVerdict[]; passed: boolean | null } {
  const rows = SERIES.map((series) => judge(series, samples))
  if (rows.every((r) => r.outcome === 'too short')) return { rows, passed: null }
  return { rows, passed: rows.every((r) => r.outcome !== 'still growing') }
}
