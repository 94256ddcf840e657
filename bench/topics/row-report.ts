/**
 * The topic benchmark's Markdown report: one table row per server,
 * subscriber count and offered rate, then notes on what limited the figures
 * (CPU per message and per frame, a late publisher, saturated rows).
 */
import { cores, count, markdownTable, ms } from '../lib/report-table.ts'
import { TARGET_LABELS } from './cli-options.ts'
import type { RowResult } from './run-row.ts'

function completeCell(row: RowResult): string {
  if (row.error !== null) return `**failed**: ${row.error}`
  const shed =
    row.shedShare > 0 ? ` (publisher shed ${Math.round(row.shedShare * 100)}% of offered: room saturated)` : ''
  return row.complete ? `yes${shed}` : `**NO**: ${row.problems.join('; ')}${shed}`
}

const HEADER = [
  'server',
  'subscribers',
  'offered msg/s (pub sockets)',
  'published msg/s',
  'delivered msg/s',
  'frames/s',
  'per subscriber msg/s (min)',
  'p50 ms',
  'p99 ms',
  'max ms',
  'complete?',
  'ok p50 / p99 ms',
  'CPU cores: load gen / server (workerd runtime + entry) / other',
]

export function resultTable(rows: readonly RowResult[]): string {
  const cells = rows.map((r) => {
    const perSub = r.deliveredPerS / r.subscribers
    const ok = r.okLatency === null ? 'n/a' : `${ms(r.okLatency.p50)} / ${ms(r.okLatency.p99)}`
    const cpu =
      r.cpu === null
        ? 'n/a'
        : r.cpu.entry === null
          ? `${cores(r.cpu.client)} / ${cores(r.cpu.runtime)} / ${cores(r.cpu.other)}`
          : `${cores(r.cpu.client)} / ${cores(r.cpu.runtime)} + ${cores(r.cpu.entry)} / ${cores(r.cpu.other)}`
    return [
      TARGET_LABELS[r.target],
      count(r.subscribers),
      `${count(r.offered)} (${r.publisherSockets})`,
      count(r.publishedPerS),
      count(r.deliveredPerS),
      count(r.framesPerS),
      `${count(perSub)} (${count(r.minPerSubscriberPerS)})`,
      ms(r.latency.p50),
      ms(r.latency.p99),
      ms(r.latency.max),
      completeCell(r),
      ok,
      cpu,
    ]
  })
  return markdownTable(HEADER, cells, 'lrrrrrrrrrlrr')
}

/** One bullet per row (runtime CPU per message and per frame, lateness, wrangler's own CPU), then saturation. */
export function rowNotes(rows: readonly RowResult[]): string[] {
  const notes: string[] = []
  for (const r of rows) {
    if (r.error !== null) continue
    const parts: string[] = []
    const runtime = r.cpu?.runtime
    if (runtime !== null && runtime !== undefined && r.publishedPerS > 0) {
      const frames = r.framesPerS + r.publishedPerS * r.publisherSockets
      const who = r.target === 'ws' ? 'the ws server' : 'the runtime workerd'
      parts.push(
        `${who} spent ${ms((runtime * 1000) / r.publishedPerS)} ms of CPU per published message, ` +
          `${ms((runtime * 1e6) / frames)} µs per frame sent`,
      )
    }
    if (r.lateness !== null && r.lateness.p99 > 5) {
      parts.push(`the publisher sent late (p99 ${ms(r.lateness.p99)} ms, max ${ms(r.lateness.max)} ms)`)
    }
    if (r.cpu?.wrangler !== null && r.cpu?.wrangler !== undefined && r.cpu.wrangler > 0.1) {
      parts.push(`wrangler's own processes used ${cores(r.cpu.wrangler)} cores`)
    }
    if (parts.length > 0) {
      notes.push(
        `${TARGET_LABELS[r.target]}, ${count(r.subscribers)} subscribers @ ${count(r.offered)}/s: ${parts.join('; ')}`,
      )
    }
  }
  const saturated = rows.filter((r) => r.error === null && r.shedShare > 0.05)
  if (saturated.length > 0) {
    const took = saturated
      .map((r) => `${TARGET_LABELS[r.target]} ${count(r.publishedPerS)} msg/s with ${count(r.subscribers)}`)
      .join(', ')
    notes.push(
      `saturated rows (the room took ${took} subscribers): the publisher shed what the room could not take, so ` +
        `their latency is mostly the ~1 s backlog it allows before shedding; offer less (--rate) to see it unsaturated`,
    )
  }
  return notes
}
