/**
 * What the document room's authorship checks cost (`npm run bench:docs:rules`).
 *
 * In one invocation, on the same machine, it bundles two trees: the
 * current tree's HEAD ("after": authorship and role rules per write, Yjs
 * client-id ownership; a clean worktree at /tmp/relay-after, so edits in
 * progress are not measured, or this working tree with `--after-tree .`)
 * and the commit before the checks ("before", a git worktree of `ac76cfa`
 * at /tmp/relay-before, made when absent). Then, per offered rate, it runs
 * one row on each, before then after (`--rounds` pairs per rate), each on
 * its own fresh edge (`wrangler dev` on the bundle, an unreported warm-up
 * row first: a fresh workerd runs cold code) and a fresh
 * `conversation:<uuid>` document whose 20 senders each hold their own
 * identity and capability token and append messages
 * `{ id, author: <own DID>, text, ts }` to `messages`, so the rules run on
 * every update. Prints one Markdown table with the p99 of each after row
 * against the before row of its pair. Exits 1 if any row lost updates or
 * failed.
 *
 *   node bench/docs/rules.ts [--rates 500,2000] [--duration 10] [--rounds 1] [--clients 20] [--json]
 */

import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { REPO_ROOT } from '../lib/child-process.ts'
import { bundleWorker, outputAfterBanner } from '../lib/edge-process.ts'
import { parseOptions } from '../lib/options.ts'
import { cores, count, markdownTable, ms, ratio, writeResults } from '../lib/report-table.ts'
import { guardRun, machineLine, progress } from '../lib/run-environment.ts'
import { RULES_OPTIONS } from './cli-options.ts'
import { completeCell, rowWarnings } from './load-report.ts'
import { bundleHolds, prepareAfterTree, prepareBeforeTree, type Side, startEdge } from './rules-edges.ts'
import { type RulesRow, runRulesRow } from './rules-row.ts'

/** Only the after tree has the client-id ownership table: tells the two bundles apart. */
const AFTER_MARK = 'doc_client_owner'
/** The requirement: the checks add at most this much to the p99. */
const P99_BUDGET = 1.1

const parsed = parseOptions('node bench/docs/rules.ts [flags]   (npm run bench:docs:rules -- [flags])', RULES_OPTIONS)
const options = { ...parsed, afterTree: resolve(parsed.afterTree) }

const rowBudgetS = options.quietWaitS + options.warmupS + options.durationS + options.drainS + 45
guardRun((2 * options.rounds * options.rates.length * rowBudgetS + 600) * 1000)

const workingTree = options.afterTree === REPO_ROOT
const head = workingTree
  ? execFileSync('git', ['rev-parse', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim()
  : prepareAfterTree(options.afterTree)
/** With `--after-tree .`: uncommitted edits the after bundle includes, relay-side paths only. */
const dirty = workingTree
  ? execFileSync('git', ['status', '--porcelain', '--untracked-files=no', '--', 'workers', 'shared'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    })
      .split('\n')
      .map((line) => line.slice(3).trim())
      .filter((path) => path !== '')
  : []
progress(`after: ${head.slice(0, 7)} in ${options.afterTree}`)
progress(`before: ${options.before} in ${options.beforeTree}`)
const beforeCommit = prepareBeforeTree(options.before, options.beforeTree)

const work = mkdtempSync(join(tmpdir(), 'vivim-bench-rules-'))
const rows: RulesRow[] = []
/** Warm-up load: low enough that a fresh edge never falls behind on it. */
const WARM_RATE = Math.min(500, ...options.rates)

/**
 * One measured row on a fresh edge: a row that fell behind leaves its edge busy for minutes
 * (the room works through its backlog after the sockets close), which must not reach the next row.
 */
async function measure(side: Side, bundle: readonly string[], commit: string, rate: number, round: number) {
  const edge = await startEdge(side, commit, bundle)
  try {
    if (options.edgeWarmupS > 0) {
      // A fresh workerd runs cold code at first: spend that on an unreported row, alike on both sides.
      const warm = { ...options, warmupS: 1, durationS: options.edgeWarmupS, quietWaitS: 0, injectLoss: false }
      const row = await runRulesRow(edge, warm, WARM_RATE, 0)
      if (!row.complete) progress(`${side}: the warm-up at ${count(WARM_RATE)}/s was incomplete`)
    }
    progress(`${side} @ ${count(rate)}/s (round ${round}): ${options.clients} senders for ${options.durationS} s`)
    const row = await runRulesRow(edge, options, rate, round)
    const state = row.error ?? (row.complete ? 'complete' : 'INCOMPLETE')
    progress(
      `${side} @ ${count(rate)}/s: delivered ${count(row.deliveredPerS)}/s, p50 ${ms(row.latency.p50)} ms, p99 ${ms(row.latency.p99)} ms, ${state}`,
    )
    const said = outputAfterBanner(edge)
    if (!row.complete && said !== '') progress(`${side}: edge output:\n${said}`)
    return row
  } finally {
    await edge.stop()
  }
}

try {
  progress('bundling the current tree and the tree before the checks')
  const bundles = {
    after: bundleWorker(options.afterTree, join(work, 'after')),
    before: bundleWorker(options.beforeTree, join(work, 'before')),
  }
  if (!bundleHolds(bundles.after, AFTER_MARK) || bundleHolds(bundles.before, AFTER_MARK)) {
    throw new Error(`the bundles do not differ as expected (${AFTER_MARK} only in the current tree)`)
  }
  const commits = { before: beforeCommit, after: head }
  for (const rate of options.rates) {
    for (let round = 1; round <= options.rounds; round++) {
      for (const side of ['before', 'after'] as const) {
        rows.push(await measure(side, bundles[side], commits[side], rate, round))
      }
    }
  }
} catch (error) {
  progress(`stopped: ${(error as Error).message}`)
} finally {
  rmSync(work, { recursive: true, force: true })
}

/** The before row of the same rate and round, when both rows are complete: a p99 of what got through means nothing. */
const pairOf = (row: RulesRow) =>
  row.complete
    ? rows.find((r) => r.side === 'before' && r.offered === row.offered && r.round === row.round && r.complete)
    : undefined

function table(): string {
  const header = ['server', 'rate/s', 'p50 ms', 'p99 ms', 'delivered/s', 'complete', 'p99 after/before', 'server CPU']
  const cells = rows.map((row) => {
    const before = row.side === 'after' ? pairOf(row) : undefined
    return [
      options.rounds > 1 ? `${row.side} (${row.round})` : row.side,
      count(row.offered),
      ms(row.latency.p50),
      ms(row.latency.p99),
      count(row.deliveredPerS),
      completeCell(row, false),
      row.side === 'after' ? ratio(row.latency.p99, before?.latency.p99) : '',
      cores(row.serverCores),
    ]
  })
  return markdownTable(header, cells)
}

const words = { server: 'the edge', item: 'messages', timeline: true }
const warnings = rows.flatMap((row) =>
  rowWarnings(`${row.side} @ ${count(row.offered)}/s${options.rounds > 1 ? ` (${row.round})` : ''}`, row, words),
)

const verdicts = options.rates.map((rate) => {
  const pairs = rows.filter((r) => r.side === 'after' && r.offered === rate)
  const ratios = pairs.flatMap((r) => {
    const before = pairOf(r)
    return before === undefined ? [] : [r.latency.p99 / before.latency.p99]
  })
  if (ratios.length === 0) return `- ${count(rate)}/s: no pair where both rows delivered everything: no verdict`
  const worst = Math.max(...ratios)
  const list = ratios.map((x) => `${x.toFixed(2)}x`).join(', ')
  return `- ${count(rate)}/s: p99 after/before ${list}: ${worst <= P99_BUDGET ? 'within' : 'OVER'} the ${P99_BUDGET.toFixed(2)}x budget`
})

const out: string[] = [
  '## Authorship checks: document relay before and after',
  '',
  `before = ${beforeCommit.slice(0, 7)} (no authorship rules, no client-id ownership); after = ${head.slice(0, 7)}${dirty.length === 0 ? '' : ` plus uncommitted edits to ${dirty.join(', ')}`}; both bundled from their trees and served by \`wrangler dev\` (VIVIM_ENV=development, tokens verified).`,
  `${options.clients} senders (own identity, owner's grant + invocation to the edge) + 1 observer (the owner) on a fresh \`conversation:<uuid>\` per row; each update appends one \`{ id, author, text, ts }\` to \`messages\`; ${options.warmupS} s warm-up, ${options.durationS} s measured; rows alternate before, after; each row first waits up to ${options.quietWaitS} s for other processes to go idle.`,
  `Machine: ${machineLine()}. Each row runs on its own fresh edge after an unreported ${options.edgeWarmupS} s warm-up at ${count(WARM_RATE)}/s. Server CPU: cores used by the edge's processes over the window.`,
  '',
  table(),
  '',
  ...verdicts,
  ...warnings.map((w) => `- ${w}`),
]
console.log(out.join('\n'))

if (options.json) {
  const file = writeResults('docs-rules', { machine: machineLine(), before: beforeCommit, after: head, options, rows })
  progress(`raw results: ${file}`)
}
const failed =
  rows.length !== 2 * options.rounds * options.rates.length || rows.some((r) => !r.complete || r.error !== null)
process.exit(failed ? 1 : 0)
