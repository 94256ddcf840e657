/**
 * Load benchmark of the edge's pubsub topic rooms (`npm run bench:topics`),
 * beside two anchors measured the same way in the same run: a naive
 * broadcast Durable Object under its own `wrangler dev` (no verification,
 * one frame per message per subscriber) and a Node `ws` broadcast server.
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
 *     [--targets edge,edge-one,naive,ws]
 *
 * Past 500 subscribers (`Limits.topicReadersPerObject`) the edge's room
 * passes readers to fan-out objects; `edge-one` is the same edge with every
 * reader in the room, for comparison (`--subscribers 1000,5000`).
 */
import { randomBytes } from 'node:crypto'
import { parseOptions } from '../lib/options.ts'
import { count, ms } from '../lib/report-table.ts'
import { guardRun, machineLine, progress } from '../lib/run-environment.ts'
import { TARGET_LABELS, type TargetKind, TOPIC_OPTIONS } from './cli-options.ts'
import { type Edge, startEdge, startEdgeInOneObject, startNaive, startWsServer } from './edge-under-test.ts'
import { resultTable, rowNotes } from './row-report.ts'
import { type RowResult, runRow } from './run-row.ts'

const o = parseOptions('node bench/topics/run.ts [flags]   (npm run bench:topics -- [flags])', TOPIC_OPTIONS)

const rowCount = o.subscribers.length * o.rates.length * o.targets.length
const rowBudgetS = o.quietWaitS + o.warmupS + o.durationS + o.drainS + 40
// A row the edge restarted under is run again; at most MAX_RETRIES times over the whole run.
const MAX_RETRIES = 2
guardRun((120 + (rowCount + MAX_RETRIES) * rowBudgetS) * 1000)

const starters: Record<TargetKind, () => Promise<Edge>> = {
  edge: () => startEdge(o.url),
  'edge-one': () => {
    if (o.url !== null) throw new Error('--targets edge-one starts its own edge; it cannot be given with --url')
    return startEdgeInOneObject()
  },
  naive: startNaive,
  ws: startWsServer,
}
const targets: Edge[] = []
const runId = randomBytes(4).toString('hex')
const rows: RowResult[] = []
let retries = 0
try {
  for (const kind of o.targets) {
    progress(kind === 'edge' && o.url !== null ? `using the edge at ${o.url}` : `starting the ${TARGET_LABELS[kind]}`)
    targets.push(await starters[kind]())
  }
  for (const subscribers of o.subscribers) {
    for (const rate of o.rates) {
      for (const target of targets) {
        const topic = `public:bench:${runId}-${target.kind}-s${subscribers}-r${rate}`
        progress(
          `${TARGET_LABELS[target.kind]}: ${count(subscribers)} subscribers, ${count(rate)} msg/s offered for ${o.durationS} s on ${topic}`,
        )
        let row = await runRow(target, o, subscribers, rate, topic)
        while (row.edgeRestarted && retries < MAX_RETRIES) {
          retries++
          progress('  the server restarted under the row (a source file changed): running it again')
          row = await runRow(target, o, subscribers, rate, `${topic}-again${retries}`)
        }
        rows.push(row)
        const state = row.error ?? (row.complete ? 'complete' : `INCOMPLETE: ${row.problems.join('; ')}`)
        progress(
          `  published ${count(row.publishedPerS)}/s, delivered ${count(row.deliveredPerS)}/s in ${count(row.framesPerS)} frames/s, ` +
            `p50 ${ms(row.latency.p50)} ms, p99 ${ms(row.latency.p99)} ms, ${state}`,
        )
        const died = target.died()
        if (died !== null)
          throw new Error(`${TARGET_LABELS[target.kind]} died: ${died}\n${target.logTail().slice(-2_000)}`)
      }
    }
  }
} finally {
  for (const target of targets) await target.stop()
}

const out = [
  '## Topic fan-out',
  '',
  `One publisher and S subscribers on one topic, ${o.warmupS} s warm-up then ${o.durationS} s measured per row; ` +
    `latency = subscriber arrival − scheduled send time embedded in the signed payload; ` +
    `delivered = messages arriving inside the window, all subscribers; frames = the frames that carried them ` +
    `(\`msg\`, or the edge's batched \`msgs\`); ok = publisher's \`pub\` → \`ok\` time. ` +
    `Publisher sockets send at most ${o.perSocketRate} msg/s each (the room allows one publisher 200 msg/s). ` +
    `Servers: ${targets.map((t) => TARGET_LABELS[t.kind]).join(', ')}, one after another on each row, same load generator; ` +
    `the naive broadcast DO runs under its own wrangler dev started as the edge's, the Node ws server is a child process ` +
    `(its CPU is the "server" figure).`,
  `Machine: ${machineLine('memory')}. Edge: ${o.url ?? 'wrangler dev (workerd) on 127.0.0.1'}. ` +
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
