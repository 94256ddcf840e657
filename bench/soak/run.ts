/**
 * `npm run soak`: the edge under churn for a given time (30 minutes by
 * default), sampled every minute, to show whether anything grows without
 * levelling off. Starts this tree's edge from a deploy bundle
 * (`startSnapshotEdge`: edits to the sources during the run do not reload
 * it), creates the topics, then keeps the document clients, subscribers and
 * record writes of `cli-options.ts` going while clients are replaced every
 * few seconds. Each minute it samples the edge's memory, sockets and CPU
 * (`edge-sample.ts`) and the workload's latencies, operations and errors
 * (`meter.ts`). At the end it writes the raw samples to
 * `bench/results/soak-*.json`, the report (`report.ts`, with the verdict of
 * `verdict.ts`) to `<out>.md` and the plot (`plot.ts`) to `<out>.png`.
 *
 *   npm run soak -- --minutes 2 --out ../scratch/soak-check   # a quick check
 *   npm run soak -- --from bench/results/soak-<time>.json     # redraw a report
 */
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { basename, resolve } from 'node:path'
import { REPO_ROOT, sleep } from '../lib/child-process.ts'
import { startSnapshotEdge, type WranglerServer } from '../lib/edge-process.ts'
import { parseOptions } from '../lib/options.ts'
import { writeResults } from '../lib/report-table.ts'
import { guardRun, machineLine, progress } from '../lib/run-environment.ts'
import { commandLineOf, describeWorkload, SOAK_OPTIONS, type SoakOptions } from './cli-options.ts'
import { DocChurn } from './doc-churn.ts'
import { CpuMeter, edgeMemoryMiB, establishedTo } from './edge-sample.ts'
import { Meter, paced } from './meter.ts'
import type { Sample } from './minute-sample.ts'
import { writePlot } from './plot.ts'
import { RecordLoad } from './record-load.ts'
import { type RunFacts, soakReport } from './report.ts'
import { TopicChurn } from './topic-churn.ts'
import { verdict } from './verdict.ts'

const MINUTE_MS = 60_000
/** Idle time before the baseline sample, for the edge to finish starting up. */
const SETTLE_MS = 10_000
/** How long after every client left the edge is sampled once more. */
const AFTER_MS = 30_000

/** What a results file holds: enough to redraw the report and the plot. */
interface SoakResults {
  facts: RunFacts
  workload: string
  samples: Sample[]
}

const o = parseOptions('node bench/soak/run.ts [flags]   (npm run soak -- [flags])', SOAK_OPTIONS)

/** The edge's source: HEAD, and the files of the edge with uncommitted changes when the bundle was built. */
function edgeSource(): string {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' })
  const head = git('log', '-1', '--format=%h (%cs)').trim()
  // Porcelain lines are `XY path`: two status letters, a space, the path.
  const dirty = git('status', '--porcelain', '--', 'workers', 'shared/src', 'wrangler.toml')
    .split('\n')
    .filter((line) => line !== '' && !line.includes('/test/'))
    .map((line) => line.slice(3))
  const tree = dirty.length === 0 ? 'no uncommitted changes to the edge' : `uncommitted changes in ${dirty.join(', ')}`
  return `a deploy bundle of commit ${head}, ${tree}, under \`wrangler dev\` (\`VIVIM_ENV=development\`, no local tracing)`
}

/** Writes the report and the plot of `results` beside `out`. */
async function writeReport(results: SoakResults, out: string): Promise<void> {
  const base = resolve(REPO_ROOT, out)
  writeFileSync(`${base}.md`, soakReport(results.facts, results.workload, results.samples, `${basename(base)}.png`))
  const caption = `npm run soak: ${results.samples.length - 1} minutes from ${results.facts.started} UTC (${results.facts.machine})`
  await writePlot(results.samples, caption, `${base}.png`)
  progress(`wrote ${base}.md and ${base}.png`)
}

/** Runs the workload on a fresh edge for `o.minutes`, sampling every minute. */
async function soak(opts: SoakOptions): Promise<SoakResults> {
  const facts: RunFacts = {
    command: commandLineOf(opts),
    started: new Date().toISOString().slice(0, 16).replace('T', ' '),
    ended: '',
    machine: machineLine('memory'),
    source: edgeSource(),
    stoppedEarly: null,
    afterLeaving: null,
  }
  const edge: WranglerServer = await startSnapshotEdge()
  const samples: Sample[] = []
  try {
    progress(`edge at ${edge.origin}`)
    const meter = new Meter()
    const cpu = new CpuMeter(() => edge.cpuMs())
    const runId = Math.random().toString(36).slice(2, 8)
    const docs = new DocChurn(
      { edge: edge.origin.replace(/^http/, 'ws'), runId, docs: opts.docs, clients: opts.clients },
      meter,
    )
    const topics = new TopicChurn(
      { edge: edge.origin, runId, topics: opts.topics, subscribers: opts.subscribers },
      meter,
    )
    const records = new RecordLoad(edge.origin, meter)
    const sample = (minute: number): Sample => ({
      minute,
      at: new Date().toISOString(),
      memoryMiB: edgeMemoryMiB(edge),
      tcp: establishedTo(edge.port),
      ...meter.take(),
      clientSockets: { docs: meter.sockets('docs'), topics: meter.sockets('topics') },
      pools: { docClients: docs.size, subscribers: topics.size },
      loadGenRssMiB: process.memoryUsage().rss / 2 ** 20,
      cpu: cpu.take(),
    })
    await sleep(SETTLE_MS)
    samples.push(sample(0))
    await topics.create()
    docs.fill()
    topics.fill()
    const stops = [
      paced(meter, 'document write', opts.clients / opts.writeS, async () => docs.write()),
      paced(meter, 'publish', opts.publishes, () => topics.publish()),
      paced(meter, 'record write', opts.records, () => records.write()),
      paced(meter, 'record read', opts.reads, () => records.read()),
    ]
    const churn = setInterval(() => {
      docs.churn(opts.churnPct)
      topics.churn(opts.churnPct)
    }, opts.churnS * 1000)
    meter.take() // minute 1 starts now: creating the topics is not part of it
    cpu.take()
    const t0 = performance.now()
    for (let minute = 1; minute <= opts.minutes; minute++) {
      await sleep(t0 + minute * MINUTE_MS - performance.now())
      samples.push(sample(minute))
      const s = samples.at(-1) as Sample
      progress(
        `minute ${minute}: workerd runtime ${s.memoryMiB.runtime?.toFixed(0)} MiB, sockets ${s.clientSockets.docs}+${s.clientSockets.topics} (edge TCP ${s.tcp}), p99 doc ${s.latency.doc.p99.toFixed(0)} / topic ${s.latency.topic.p99.toFixed(0)} ms`,
      )
      const died = edge.died()
      if (died !== null) {
        facts.stoppedEarly = `the edge exited (${died}) in minute ${minute}`
        break
      }
    }
    clearInterval(churn)
    for (const stop of stops) stop()
    docs.stop()
    topics.stop()
    // Whether the edge lets go of what the clients held: its sockets should fall to none.
    await sleep(AFTER_MS)
    facts.afterLeaving = { memoryMiB: edgeMemoryMiB(edge), tcp: establishedTo(edge.port) }
  } finally {
    await edge.stop()
  }
  facts.ended = new Date().toISOString().slice(11, 16)
  return { facts, workload: describeWorkload(opts), samples }
}

if (o.from !== null) {
  await writeReport(JSON.parse(readFileSync(resolve(REPO_ROOT, o.from), 'utf8')) as SoakResults, o.out)
  process.exit(0)
}
// A hang guard: the workload's own loop ends it; setting up and writing the report get ten minutes.
guardRun((o.minutes + 10) * MINUTE_MS)
const results = await soak(o)
progress(`samples in ${writeResults('soak', results)}`)
await writeReport(results, o.out)
const { passed } = verdict(results.samples)
process.exit(results.facts.stoppedEarly !== null || passed === false ? 1 : 0)
