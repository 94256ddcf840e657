/**
 * The fan-out table (Markdown), its ratios against `@y/websocket-server` at
 * the same offered rate, warnings about what limited a row, and the raw JSON
 * results under `bench/results/`.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { join } from 'node:path'
import { REPO_ROOT } from './child-processes.ts'
import { describeClosed } from './load-protocol.ts'
import type { RowResult } from './load-row.ts'
import { SERVER_LABELS } from './server-targets.ts'
import { count, ms, ratio } from './stats.ts'

export function machineLine(): string {
  const cpu = cpus()
  return `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}, ${process.platform}`
}

function deliveredCell(row: RowResult): string {
  if (row.error !== null && row.totalSent === 0) return `**error**: ${row.error}`
  if (row.complete) return `yes: ${count(row.totalSent)} (observer +${ms(row.drainMs ?? 0)} ms)`
  const where = [
    row.missingAtObserver > 0 ? `observer lacks ${count(row.missingAtObserver)}` : '',
    row.sendersIncomplete > 0
      ? `${row.sendersIncomplete}/${row.clients} senders lack up to ${count(row.maxMissingAtSender)}`
      : '',
  ]
    .filter((s) => s !== '')
    .join(', ')
  return `**NO**: ${where || 'check did not finish'} of ${count(row.totalSent)}${row.error ? ` (${row.error})` : ''}`
}

const cores = (value: number | null) => (value === null ? 'n/a' : value.toFixed(2))

export function loadTable(rows: readonly RowResult[]): string {
  const header = [
    'server',
    'offered/s',
    'sent/s',
    'delivered/s',
    'p50 ms',
    'p99 ms',
    'max ms',
    'all delivered',
    'p99 vs ref',
    'delivered vs ref',
    'server CPU',
    'client CPU',
    'other CPU',
  ]
  const lines = [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`]
  for (const row of rows) {
    const ref = rows.find((r) => r.server === 'reference' && r.offered === row.offered && r.error === null)
    const cells = [
      SERVER_LABELS[row.server],
      count(row.offered),
      count(row.sentPerS),
      count(row.deliveredPerS),
      ms(row.latency.p50),
      ms(row.latency.p99),
      ms(row.latency.max),
      deliveredCell(row),
      ratio(row.latency.p99, ref?.latency.p99),
      ratio(row.deliveredPerS, ref?.deliveredPerS),
      cores(row.serverCores),
      cores(row.clientCores),
      cores(row.otherCores),
    ]
    lines.push(`| ${cells.join(' | ')} |`)
  }
  return lines.join('\n')
}

/** Lines that say when a row measured the load generator or a saturated server rather than the relaying. */
export function loadWarnings(rows: readonly RowResult[]): string[] {
  const warnings: string[] = []
  for (const row of rows) {
    const name = `${row.server} @ ${count(row.offered)}/s`
    const busiestSender = Math.max(0, ...row.senderEventLoop)
    if (busiestSender > 0.9 || row.observerEventLoop > 0.9) {
      warnings.push(
        `${name}: client threads saturated (sender event loop ${Math.round(busiestSender * 100)}%, observer ${Math.round(row.observerEventLoop * 100)}%): latency includes client queueing`,
      )
    }
    if (row.sentPerS < row.offered * 0.97) {
      warnings.push(`${name}: senders sent ${count(row.sentPerS)}/s of ${count(row.offered)}/s offered`)
    }
    if (row.serverCores !== null && row.serverCores > 0.9) {
      warnings.push(`${name}: server used ${row.serverCores.toFixed(2)} cores: its event loop is near saturation`)
    }
    if (row.otherCores !== null && row.otherCores > 0.15) {
      warnings.push(`${name}: other processes used ${row.otherCores.toFixed(2)} cores during the window: disturbed`)
    }
    if (row.outOfOrder > 0) warnings.push(`${name}: ${row.outOfOrder} entries reached the observer out of order`)
    for (const line of describeClosed(row.closed)) warnings.push(`${name}: closed by the server: ${line}`)
  }
  return warnings
}

/** Writes `data` to bench/results/<kind>-<time>.json and returns the path. */
export function writeResults(kind: string, data: unknown): string {
  const dir = join(REPO_ROOT, 'bench', 'results')
  mkdirSync(dir, { recursive: true })
  const file = join(dir, `${kind}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`)
  writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`)
  return file
}
