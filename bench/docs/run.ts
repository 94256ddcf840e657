/**
 * Fan-out load benchmark of Yjs document relays (`npm run bench:docs`).
 *
 * For each server (this project's relay, `@y/websocket-server`,
 * `@hocuspocus/server`, y-partyserver with plain and with hibernatable
 * sockets), each in its own child process and one at a time,
 * and for each offered rate: C senders push small Yjs updates to one
 * document while one observer times their arrival; then every client must
 * hold every update. Prints one Markdown table with ratios against
 * `@y/websocket-server`. Exits 1 if any row lost updates or failed.
 *
 *   node_modules/.bin/node bench/docs/run.ts [--clients 20] [--rates 500,2000,4000]
 *     [--duration 10] [--only relay,reference,hocuspocus,partyserver,partyserver-hib] [--relay-url ws://...] [--json]
 */
import { outputAfterBanner } from '../lib/edge-process.ts'
import { parseOptions } from '../lib/options.ts'
import { count, ms, writeResults } from '../lib/report-table.ts'
import { guardRun, machineLine, progress } from '../lib/run-environment.ts'
import { LOAD_OPTIONS } from './cli-options.ts'
import { type FanoutRow, loadTable, rowWarnings } from './load-report.ts'
import { CONNECT_MS, runLoadRow } from './load-row.ts'
import { openFanoutObserver } from './observer.ts'
import { eachServer, type RunningServer, SERVER_NAMES } from './server-targets.ts'
import { framing } from './wire-dialects.ts'

const RELAY_FRAMES_PER_SECOND = 500
const LOG_LINES_CHARS = 2_000

const options = parseOptions('node bench/docs/run.ts [flags]   (npm run bench:docs -- [flags])', LOAD_OPTIONS)

/** One row on `server`: a fresh document, every sender appending `{ c, n, t }` entries to its own array. */
async function runRow(server: RunningServer, rate: number): Promise<FanoutRow> {
  const docId = `bench-${runId}-${server.name}-${rate}`
  const url = server.urlFor(docId)
  const row = await runLoadRow(
    {
      target: server,
      targetWord: 'server',
      openObserver: () => openFanoutObserver(url, framing(server.dialect, docId), options.clients, CONNECT_MS),
      senders: { dialect: server.dialect, documentName: docId, urlOf: () => url, didOf: null },
    },
    options,
    rate,
  )
  return { server: server.name, ...row }
}

const rowBudgetS = options.quietWaitS + options.warmupS + options.durationS + options.drainS + 45
guardRun((options.only.length * (options.rates.length * rowBudgetS + 120) + 30) * 1000)

const runId = `${Date.now().toString(36)}`
const rows: FanoutRow[] = []
const skipped = await eachServer(options.only, options.relayUrl, async (server) => {
  for (const rate of options.rates) {
    progress(`${server.name}: ${count(rate)} updates/s from ${options.clients} clients for ${options.durationS} s`)
    const row = await runRow(server, rate)
    rows.push(row)
    const state = row.error ?? (row.complete ? 'complete' : 'INCOMPLETE')
    progress(
      `${server.name} @ ${count(rate)}/s: delivered ${count(row.deliveredPerS)}/s, p99 ${ms(row.latency.p99)} ms, ${state}`,
    )
    const tail = row.complete ? '' : outputAfterBanner(server, LOG_LINES_CHARS)
    if (tail !== '') progress(`${server.name}: last server output:\n${tail}`)
    if (server.died() !== null) {
      progress(`${server.name} died: ${server.died()}\n${server.logTail().slice(-2_000)}`)
      break
    }
  }
})

const order = (row: FanoutRow) => row.offered * 10 + SERVER_NAMES.indexOf(row.server)
rows.sort((a, b) => order(a) - order(b))

const out: string[] = [
  '## Yjs document fan-out',
  '',
  `${options.clients} senders + 1 observer on one document; ${options.warmupS} s warm-up, ${options.durationS} s measured per row; ` +
    `latency = observer arrival − embedded send time; ratios against @y/websocket-server at the same offered rate.`,
  `Machine: ${machineLine()}. CPU in cores over the window: server = its process group, client = this runner (observer + ${options.workers} sender threads), other = the rest of the machine.`,
  '',
  loadTable(rows),
  '',
]
for (const reason of skipped) out.push(`- skipped ${reason}`)
if (options.only.includes('relay') && Math.max(...options.rates) / options.clients > RELAY_FRAMES_PER_SECOND) {
  out.push(`- note: above ${RELAY_FRAMES_PER_SECOND} updates/s per client the relay's per-socket frame limit applies`)
}
const words = { server: 'server', item: 'entries', timeline: false }
for (const row of rows) {
  for (const warning of rowWarnings(`${row.server} @ ${count(row.offered)}/s`, row, words)) out.push(`- ${warning}`)
}
console.log(out.join('\n'))

if (options.json) {
  const file = writeResults('docs-load', { runId, machine: machineLine(), options, skipped, rows })
  progress(`raw results: ${file}`)
}
const failed = rows.some((row) => !row.complete || row.error !== null)
process.exit(failed ? 1 : 0)
