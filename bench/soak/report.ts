/**
 * The soak's report in Markdown: what ran (command line, dates, machine,
 * the edge's source), the verdict with its rule, and the per-minute table.
 * The plot (`plot.ts`) is linked beside it. Everything here is computed
 * from the samples, so a report redrawn from a results file (`--from`)
 * says the same as the run's own.
 */
import { count, markdownTable, ms } from '../lib/report-table.ts'
import type { EdgeResources } from './edge-sample.ts'
import type { Sample } from './minute-sample.ts'
import { RULE, type SeriesVerdict, verdict } from './verdict.ts'

/** What the report says about the run besides its samples. */
export interface RunFacts {
  command: string
  started: string
  ended: string
  machine: string
  /** The edge's source: commit and any uncommitted changes to it. */
  source: string
  /** Why the run ended early, if it did. */
  stoppedEarly: string | null
  /** The edge 30 s after every client left, once the run ended. */
  afterLeaving: EdgeResources | null
}

const mib = (n: number | null) => (n === null ? 'n/a' : n.toFixed(0))
const cores = (n: number | null) => (n === null ? 'n/a' : n.toFixed(2))
const fixed = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : 'n/a')
const signed = (n: number, unit: string) => `${n >= 0 ? '+' : ''}${n.toFixed(unit === 'ms' ? 0 : 1)}`

function verdictTable(rows: readonly SeriesVerdict[]): string {
  return markdownTable(
    [
      'series',
      'first third (median)',
      'last third (median)',
      'slope, first third (per 10 min)',
      'last third',
      'verdict',
    ],
    rows.map((r) => [
      `${r.series.name} (${r.series.unit}; floor ${r.series.floor})`,
      fixed(r.first),
      fixed(r.last),
      signed(r.slopeFirst, r.series.unit),
      signed(r.slopeLast, r.series.unit),
      r.outcome === 'still growing' ? '**still growing**' : r.outcome,
    ]),
    'lrrrrl',
  )
}

/** The errors of a minute, most frequent first: `3 publish: rate_limited; 1 ...`. */
function errorCell(errors: Record<string, number>): string {
  const list = Object.entries(errors).sort((a, b) => b[1] - a[1])
  if (list.length === 0) return '0'
  return list.map(([what, n]) => `${n} ${what}`).join('; ')
}

const pair = (a: number, b: number) => `${ms(a)} / ${ms(b)}`
const ops = (s: Sample, a: string, b: string) => `${count(s.counts[a] ?? 0)} / ${count(s.counts[b] ?? 0)}`

function minuteTable(samples: readonly Sample[]): string {
  return markdownTable(
    [
      'min',
      'RSS MiB: workerd runtime / entry / wrangler / load gen',
      'client sockets: docs + topics',
      'edge TCP',
      'doc p50 / p99 ms',
      'topic p50 / p99 ms',
      'record put p50 / p99 ms',
      'doc writes / deliveries',
      'publishes / deliveries',
      'record writes / reads',
      'joins / leaves (docs, topics)',
      'CPU cores: edge / load gen / other',
      'errors',
    ],
    samples.map((s) => [
      String(s.minute),
      [s.memoryMiB.runtime, s.memoryMiB.entry, s.memoryMiB.wrangler, s.loadGenRssMiB].map(mib).join(' / '),
      `${s.clientSockets.docs} + ${s.clientSockets.topics}`,
      s.tcp === null ? 'n/a' : String(s.tcp),
      pair(s.latency.doc.p50, s.latency.doc.p99),
      pair(s.latency.topic.p50, s.latency.topic.p99),
      pair(s.latency.recordPut.p50, s.latency.recordPut.p99),
      ops(s, 'doc writes', 'doc deliveries'),
      ops(s, 'publishes', 'topic deliveries'),
      ops(s, 'record writes', 'record reads'),
      `${ops(s, 'doc joins', 'doc leaves')}, ${ops(s, 'topic joins', 'topic leaves')}`,
      `${cores(s.cpu.edge)} / ${cores(s.cpu.loadGen)} / ${cores(s.cpu.other)}`,
      errorCell(s.errors),
    ]),
  )
}

/** The whole report; `workload` is the paragraph saying what the clients did, `plot` the PNG's name beside it. */
export function soakReport(facts: RunFacts, workload: string, samples: readonly Sample[], plot: string): string {
  const { rows, passed } = verdict(samples)
  const still = rows.filter((r) => r.outcome === 'still growing').map((r) => r.series.name)
  const summary =
    passed === null
      ? 'Too short to judge: the rule needs at least six minutes.'
      : passed
        ? '**No growth that does not level off.**'
        : `**Still growing at the end: ${still.join(', ')}.**`
  const after = facts.afterLeaving ?? null
  const afterLine =
    after === null
      ? ''
      : ` 30 s after every client left: ${after.tcp ?? 'n/a'} established TCP connections to the edge; ` +
        `workerd runtime ${mib(after.memoryMiB.runtime)} MiB, entry ${mib(after.memoryMiB.entry)} MiB.`
  const errors = samples.reduce((n, s) => n + Object.values(s.errors).reduce((a, b) => a + b, 0), 0)
  return [
    '# Soak: the edge under churn',
    '',
    `Run of ${facts.started} to ${facts.ended} UTC: \`${facts.command}\`.`,
    `Machine: ${facts.machine}. Edge: ${facts.source}.`,
    ...(facts.stoppedEarly === null ? [] : ['', `**The run stopped early: ${facts.stoppedEarly}.**`]),
    '',
    workload,
    '',
    'The machine was shared with other work (test runs, builds) during the run: the last column of the table ' +
      'says how many cores it used. Absolute latencies are therefore not this edge’s speed; the point is how ' +
      'each figure moves over time.',
    '',
    `## Verdict\n\n${summary} Errors over the run: ${count(errors)}.${afterLine}\n\n${RULE}\n\n${verdictTable(rows)}`,
    '',
    `## Per minute\n\n![memory, open sockets and p99 latency per minute](${plot})\n\n${minuteTable(samples)}`,
    '',
  ].join('\n')
}
