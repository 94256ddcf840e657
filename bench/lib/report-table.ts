/**
 * The benchmarks' reports: Markdown tables (one row per measured case, the
 * form `bench/README.md` quotes), the number formats their cells use, and the
 * raw JSON results some runs also write under `bench/results/`.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { REPO_ROOT } from './child-process.ts'

/**
 * A Markdown table: the header, the alignment row and one line per row. `align` has one
 * letter per column, `l` or `r`; by default the first column is left-aligned and the rest right.
 */
export function markdownTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  align = `l${'r'.repeat(header.length - 1)}`,
): string {
  const rule = header.map((_, i) => (align[i] === 'r' ? '---:' : '---'))
  return [header, rule, ...rows].map(markdownRow).join('\n')
}

/** One Markdown table line: `| a | b |`. */
export function markdownRow(cells: readonly string[]): string {
  return `| ${cells.join(' | ')} |`
}

/** Milliseconds: one decimal under 100, whole numbers above. */
export function ms(value: number): string {
  if (!Number.isFinite(value)) return 'n/a'
  return value < 100 ? value.toFixed(1) : Math.round(value).toLocaleString('en-US')
}

/** A whole number with thousands separators; "n/a" when not finite. */
export function count(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : 'n/a'
}

export function pct(fraction: number | null): string {
  return fraction === null || !Number.isFinite(fraction) ? 'n/a' : `${Math.round(fraction * 100)}%`
}

/** CPU in cores, two decimals; "n/a" when unknown. */
export function cores(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? 'n/a' : value.toFixed(2)
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

/** Writes `data` to bench/results/<kind>-<time>.json and returns the path. */
export function writeResults(kind: string, data: unknown): string {
  const dir = join(REPO_ROOT, 'bench', 'results')
  mkdirSync(dir, { recursive: true })
  const file = join(dir, `${kind}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`)
  writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`)
  return file
}
