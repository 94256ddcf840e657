/**
 * The report of the document load rows: the fan-out table of `run.ts`
 * (Markdown, its ratios against `@y/websocket-server` at the same offered
 * rate), the completeness cell and the warnings about what limited a row,
 * which `rules.ts` shares for its own table.
 */
import { cores, count, markdownTable, ms, ratio } from '../lib/report-table.ts'
import { describeClosed } from './load-protocol.ts'
import type { LoadRow } from './load-row.ts'
import { SERVER_LABELS, type ServerName } from './server-targets.ts'

/** A row of `run.ts`: which server it measured. */
export interface FanoutRow extends LoadRow {
  server: ServerName
}

/** "yes: 12,345", with how long the observer took to hold it all when `drain`; else what is missing where. */
export function completeCell(row: LoadRow, drain: boolean): string {
  if (row.error !== null && row.totalSent === 0) return `**error**: ${row.error}`
  if (row.complete) return `yes: ${count(row.totalSent)}${drain ? ` (observer +${ms(row.drainMs ?? 0)} ms)` : ''}`
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

export function loadTable(rows: readonly FanoutRow[]): string {
  const header = ['server', 'offered/s', 'sent/s', 'delivered/s', 'p50 ms', 'p99 ms', 'max ms', 'all delivered']
  header.push('p99 vs ref', 'delivered vs ref', 'server CPU', 'client CPU', 'other CPU')
  const cells = rows.map((row) => {
    const ref = rows.find((r) => r.server === 'reference' && r.offered === row.offered && r.error === null)
    return [
      SERVER_LABELS[row.server],
      count(row.offered),
      count(row.sentPerS),
      count(row.deliveredPerS),
      ms(row.latency.p50),
      ms(row.latency.p99),
      ms(row.latency.max),
      completeCell(row, true),
      ratio(row.latency.p99, ref?.latency.p99),
      ratio(row.deliveredPerS, ref?.deliveredPerS),
      cores(row.serverCores),
      cores(row.clientCores),
      cores(row.otherCores),
    ]
  })
  return markdownTable(header, cells)
}

/** How a row's warnings name what it measured. */
export interface WarningWords {
  /** The server (`server`, `the edge`). */
  server: string
  /** What the senders send (`entries`, `messages`). */
  item: string
  /** Whether an incomplete row also lists what reached the observer each second. */
  timeline: boolean
}

/** Lines that say when row `name` measured the load generator or a saturated server rather than the relaying. */
export function rowWarnings(name: string, row: LoadRow, words: WarningWords): string[] {
  const warnings: string[] = []
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
    warnings.push(
      `${name}: ${words.server} used ${row.serverCores.toFixed(2)} cores: its event loop is near saturation`,
    )
  }
  if (row.otherCores !== null && row.otherCores > 0.15) {
    warnings.push(`${name}: other processes used ${row.otherCores.toFixed(2)} cores during the window: disturbed`)
  }
  if (row.outOfOrder > 0) warnings.push(`${name}: ${row.outOfOrder} ${words.item} reached the observer out of order`)
  if (words.timeline && !row.complete) {
    warnings.push(
      `${name}: ${words.item} reaching the observer per second from the start: ${row.observerPerSecond.join(' ')}`,
    )
  }
  for (const line of describeClosed(row.closed)) warnings.push(`${name}: closed by the server: ${line}`)
  return warnings
}
