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
import { LOAD_USAGE, parseLoadOptions } from './cli-options.ts'
import { type RowResult, runRow } from './load-row.ts'
import { loadTable, loadWarnings, machineLine, writeResults } from './report-table.ts'
import { guardRun, progress } from './run-environment.ts'
import { SERVER_LABELS, SERVER_NAMES, startServer } from './server-targets.ts'
import { count, ms } from './stats.ts'

const RELAY_FRAMES_PER_SECOND = 500
const LOG_LINES_CHARS = 2_000

const options = (() => {
  try {
    return parseLoadOptions(process.argv.slice(2))
  } catch (error) {
    console.error(`${(error as Error).message}\n${LOAD_USAGE}`)
    process.exit(64)
  }
})()
if (options === null) {
  console.log(LOAD_USAGE)
  process.exit(0)
}

const rowBudgetS = options.quietWaitS + options.warmupS + options.durationS + options.drainS + 45
guardRun((options.only.length * (options.rates.length * rowBudgetS + 120) + 30) * 1000)

const runId = `${Date.now().toString(36)}`
const rows: RowResult[] = []
const skipped: string[] = []

for (const name of options.only) {
  progress(`starting ${SERVER_LABELS[name]}`)
  const started = await startServer(name, options.relayUrl)
  if (!started.ok) {
    skipped.push(started.reason)
    progress(`skipped: ${started.reason}`)
    continue
  }
  const server = started.server
  try {
    for (const rate of options.rates) {
      progress(`${name}: ${count(rate)} updates/s from ${options.clients} clients for ${options.durationS} s`)
      const row = await runRow(server, options, rate, runId)
      rows.push(row)
      const state = row.error ?? (row.complete ? 'complete' : 'INCOMPLETE')
      progress(
        `${name} @ ${count(rate)}/s: delivered ${count(row.deliveredPerS)}/s, p99 ${ms(row.latency.p99)} ms, ${state}`,
      )
      if (!row.complete) {
        // After wrangler's banner ("Ready on ..."), without its one line per request.
        const lines = server.logTail().split('\n')
        const ready = lines.findLastIndex((line) => line.includes('Ready on'))
        const said = lines.slice(ready + 1).filter((line) => line.trim() !== '' && !line.includes('[wrangler:info]'))
        const tail = said.join('\n').slice(-LOG_LINES_CHARS)
        if (tail !== '') progress(`${name}: last server output:\n${tail}`)
      }
      if (server.died() !== null) {
        progress(`${name} died: ${server.died()}\n${server.logTail().slice(-2_000)}`)
        break
      }
    }
  } finally {
    await server.stop()
  }
}

const order = (row: RowResult) => row.offered * 10 + SERVER_NAMES.indexOf(row.server)
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
for (const warning of loadWarnings(rows)) out.push(`- ${warning}`)
console.log(out.join('\n'))

if (options.json) {
  const file = writeResults('docs-load', { runId, machine: machineLine(), options, skipped, rows })
  progress(`raw results: ${file}`)
}
const failed = rows.some((row) => !row.complete || row.error !== null)
process.exit(failed ? 1 : 0)
