/**
 * Load benchmark of the edge's pubsub topic rooms (`npm run bench:topics`).
 *
 * For each subscriber count S and offered rate R: S subscribers and one
 * publisher (R/400 sockets, rounded up) on a fresh `public:bench:<random>`
 * topic; the publisher sends pre-signed envelopes on schedule for a warm-up
 * and a measured window; subscribers time each message against the send time
 * in its payload and ack every 100; then every subscriber must hold every
 * stored message exactly once, in cursor order. Prints one Markdown table
 * and exits 1 when any row lost, duplicated or reordered a message, or failed.
 *
 *   node bench/topics/run.ts [--subscribers 100,1000] [--rate 100,500,1000]
 *     [--duration 10] [--warmup 2] [--drain 8] [--url http://127.0.0.1:8787]
 */
import { randomBytes } from 'node:crypto'
import { guardRun, progress } from '../docs/run-environment.ts'
import { count, ms } from '../docs/stats.ts'
import { parseOptions, type TopicBenchOptions, USAGE } from './cli-options.ts'
import { startEdge } from './edge-under-test.ts'
import { machineLine, resultTable, rowNotes } from './report-table.ts'
import { type RowResult, runRow } from './run-row.ts'

let options: TopicBenchOptions | null
try {
  options = parseOptions(process.argv.slice(2))
} catch (error) {
  console.error(`${(error as Error).message}\n${USAGE}`)
  process.exit(64)
}
if (options === null) {
  console.log(USAGE)
  process.exit(0)
}
const o = options

const rowCount = o.subscribers.length * o.rates.length
const rowBudgetS = o.quietWaitS + o.warmupS + o.durationS + o.drainS + 40
// A row the edge restarted under is run again; at most MAX_RETRIES times over the whole run.
const MAX_RETRIES = 2
guardRun((120 + (rowCount + MAX_RETRIES) * rowBudgetS) * 1000)

progress(o.url === null ? 'starting wrangler dev' : `using the edge at ${o.url}`)
const edge = await startEdge(o.url)
const runId = randomBytes(4).toString('hex')
const rows: RowResult[] = []
let retries = 0
try {
  for (const subscribers of o.subscribers) {
    for (const rate of o.rates) {
      const topic = `public:bench:${runId}-s${subscribers}-r${rate}`
      progress(`${count(subscribers)} subscribers, ${count(rate)} msg/s offered for ${o.durationS} s on ${topic}`)
      let row = await runRow(edge, o, subscribers, rate, topic)
      while (row.edgeRestarted && retries < MAX_RETRIES) {
        retries++
        progress('  the edge restarted under the row (a source file changed): running it again')
        row = await runRow(edge, o, subscribers, rate, `${topic}-again${retries}`)
      }
      rows.push(row)
      const state = row.error ?? (row.complete ? 'complete' : `INCOMPLETE: ${row.problems.join('; ')}`)
      progress(
        `  delivered ${count(row.deliveredPerS)}/s, p50 ${ms(row.latency.p50)} ms, p99 ${ms(row.latency.p99)} ms, ${state}`,
      )
      const died = edge.died()
      if (died !== null) throw new Error(`the edge died: ${died}\n${edge.logTail().slice(-2_000)}`)
    }
  }
} finally {
  await edge.stop()
}

const out = [
  '## Topic fan-out',
  '',
  `One publisher and S subscribers on one topic, ${o.warmupS} s warm-up then ${o.durationS} s measured per row; ` +
    `latency = subscriber arrival − scheduled send time embedded in the signed payload; ` +
    `delivered = \`msg\` frames arriving inside the window, all subscribers; ok = publisher's \`pub\` → \`ok\` time. ` +
    `Publisher sockets send at most ${o.perSocketRate} msg/s each (the room allows 500 frames/s per socket).`,
  `Machine: ${machineLine()}. Edge: ${o.url ?? 'wrangler dev (workerd) on 127.0.0.1'}. ` +
    `CPU in cores over the window: load gen = this process (publisher + ${o.threads} subscriber threads); ` +
    `workerd runtime = the process running the Worker and the topic rooms, entry = the one serving the port and ` +
    `proxying every frame; other = the rest of the machine${o.url === null ? '' : ' (the edge included: it is not our child)'}.`,
  '',
  resultTable(rows),
  '',
  ...rowNotes(rows).map((note) => `- ${note}`),
]
if (o.injectLoss) out.push('- `--inject-loss` was set: one subscriber ignored one message on purpose.')
console.log(out.join('\n'))
process.exit(rows.some((row) => !row.complete) ? 1 : 0)
