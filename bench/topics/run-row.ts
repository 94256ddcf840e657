/**
 * One row of the benchmark: S subscribers and one publisher on a fresh
 * topic, a warm-up and a measured window at one offered rate, a bounded
 * drain, then the completeness check. Every stage has a deadline; a stage
 * that fails ends the row with its error, and the sockets and threads are
 * closed whatever happened.
 */
import { availableParallelism } from 'node:os'
import { machineBusyMs } from '../lib/process-cpu.ts'
import { progress, waitForQuiet } from '../lib/run-environment.ts'
import { LatencyHistogram, type LatencySummary } from '../lib/stats.ts'
import { now } from '../lib/worker-pool.ts'
import type { SubscriberReport } from './bench-protocol.ts'
import type { TargetKind, TopicBenchOptions } from './cli-options.ts'
import type { Edge, EdgeCpu } from './edge-under-test.ts'
import { presign } from './presign.ts'
import { Publisher, type PublishReport } from './publisher.ts'
import { SubscriberPool } from './subscriber-pool.ts'

export interface CpuCores {
  /** This process: publisher, subscriber threads, everything. */
  client: number
  /** The workerd running the Worker and the rooms. */
  runtime: number | null
  /** The entry workerd, proxying every frame. */
  entry: number | null
  /** wrangler's other processes (its Node process, esbuild). */
  wrangler: number | null
  /** Everything else on the machine (with `--url`, the edge too). */
  other: number | null
}

export interface RowResult {
  /** The server measured. */
  target: TargetKind
  subscribers: number
  offered: number
  publisherSockets: number
  /** Messages the room stored (`ok`) inside the window, per second. */
  publishedPerS: number
  /** Share of the offered messages the publisher shed because the room was over a second behind. */
  shedShare: number
  deliveredPerS: number
  /** Frames carrying messages that arrived at subscribers in the window, per second (fewer than messages when batched). */
  framesPerS: number
  minPerSubscriberPerS: number
  latency: { p50: number; p99: number; max: number }
  complete: boolean
  problems: string[]
  okLatency: LatencySummary | null
  lateness: LatencySummary | null
  cpu: CpuCores | null
  connectMs: number
  error: string | null
  /** wrangler dev restarted workerd during the row (a source file changed): the row says nothing about the room. */
  edgeRestarted: boolean
}

interface CpuSample extends EdgeCpu {
  client: number
  machine: number | null
}

function sampleCpu(edge: Edge): CpuSample {
  const usage = process.cpuUsage()
  return { client: (usage.user + usage.system) / 1000, ...edge.cpuMs(), machine: machineBusyMs() }
}

function cores(a: CpuSample, b: CpuSample, span: number): CpuCores {
  const d = (x: number | null, y: number | null) => (x === null || y === null ? null : (y - x) / span)
  const client = (b.client - a.client) / span
  const runtime = d(a.runtime, b.runtime)
  const entry = d(a.entry, b.entry)
  const group = d(a.group, b.group)
  const machine = d(a.machine, b.machine)
  return {
    client,
    runtime,
    entry,
    wrangler: group === null ? null : group - (runtime ?? 0) - (entry ?? 0),
    other: machine === null ? null : Math.max(0, machine - client - (group ?? 0)),
  }
}

/** CPU cores used between the window's edges, sampled by timers at `from` and `to`. */
function windowCpu(edge: Edge, from: number, to: number): Promise<CpuCores> {
  return new Promise((resolve) => {
    setTimeout(
      () => {
        const a = sampleCpu(edge)
        setTimeout(() => resolve(cores(a, sampleCpu(edge), to - from)), Math.max(0, to - now()))
      },
      Math.max(0, from - now()),
    )
  })
}

function problemsOf(subs: SubscriberReport[], pub: PublishReport, total: number, behind: number): string[] {
  const sum = (pick: (r: SubscriberReport) => number) => subs.reduce((acc, r) => acc + pick(r), 0)
  const problems: string[] = []
  const subscribers = sum((r) => r.subscribers)
  const complete = sum((r) => r.complete)
  if (complete < subscribers) problems.push(`${subscribers - complete} of ${subscribers} subscribers incomplete`)
  const counts: Array<[string, number]> = [
    ['messages lost', sum((r) => r.lost)],
    ['duplicates', sum((r) => r.duplicates)],
    ['out of cursor order', sum((r) => r.reordered)],
    ['cursors skipped', sum((r) => r.skippedCursors)],
    ['unexpected messages', sum((r) => r.unexpected)],
    ['gap/err/bad frames', sum((r) => r.oddFrames)],
    ['subscribers still behind after the drain', behind],
    ['messages never sent (publisher socket closed)', total - pub.sent - pub.shed],
    ['publishes without ok', pub.unconfirmed],
  ]
  for (const [label, n] of counts) if (n > 0) problems.push(`${n.toLocaleString('en-US')} ${label}`)
  const closes: Record<string, number> = {}
  for (const r of subs) for (const [why, n] of Object.entries(r.closes)) closes[why] = (closes[why] ?? 0) + n
  for (const [why, n] of Object.entries(closes)) problems.push(`${n} subscribers closed by the room (${why})`)
  for (const [code, n] of Object.entries(pub.errors)) problems.push(`${n} publishes answered err ${code}`)
  for (const why of pub.closes) problems.push(`a publisher socket closed (${why})`)
  return problems
}

export async function runRow(
  edge: Edge,
  options: TopicBenchOptions,
  subscribers: number,
  rate: number,
  topic: string,
): Promise<RowResult> {
  const publisherSockets = Math.max(1, Math.ceil(rate / options.perSocketRate))
  const total = Math.ceil(rate * (options.warmupS + options.durationS))
  const row: RowResult = {
    target: edge.kind,
    subscribers,
    offered: rate,
    publisherSockets,
    publishedPerS: Number.NaN,
    shedShare: 0,
    deliveredPerS: Number.NaN,
    framesPerS: Number.NaN,
    minPerSubscriberPerS: Number.NaN,
    latency: { p50: Number.NaN, p99: Number.NaN, max: Number.NaN },
    complete: false,
    problems: [],
    okLatency: null,
    lateness: null,
    cpu: null,
    connectMs: Number.NaN,
    error: null,
    edgeRestarted: false,
  }
  const url = `${edge.wsOrigin}/v1/topics/${topic}`
  await waitForQuiet(() => edge.cpuMs().group, options.quietWaitS * 1000)
  let pool: SubscriberPool | null = null
  const publisher = new Publisher(total)
  const generation = edge.generation()
  try {
    pool = await SubscriberPool.open({
      url,
      subscribers,
      threads: options.threads,
      capacity: total,
      connectTimeoutMs: 20_000 + subscribers * 20,
      injectLoss: options.injectLoss,
    })
    row.connectMs = pool.connectMs
    await publisher.open(url, publisherSockets, 15_000)
    const signed = await presign(topic, rate, total, availableParallelism())
    progress(
      `  ${subscribers} subscribers connected in ${Math.round(row.connectMs)} ms; signed ${total} in ${Math.round(signed.signMs)} ms`,
    )
    const measureFrom = signed.t0 + options.warmupS * 1000
    const stopAt = measureFrom + options.durationS * 1000
    pool.setWindow(measureFrom, stopAt)
    const cpu = windowCpu(edge, measureFrom, stopAt)
    await publisher.run(signed.frames, signed.t0, rate, { from: measureFrom, to: stopAt })
    row.cpu = await cpu
    const drainUntil = Math.max(now(), stopAt) + options.drainS * 1000
    await publisher.drain(drainUntil)
    const pub = publisher.report()
    const behind = await pool.waitCaughtUp(pub.lastCursor, drainUntil)
    const subs = await pool.check(pub.published)
    const histogram = new LatencyHistogram()
    for (const r of subs) histogram.merge(r.histogram, r.latencyMax)
    const delivered = subs.reduce((acc, r) => acc + r.deliveredInWindow, 0)
    row.deliveredPerS = delivered / options.durationS
    row.framesPerS = subs.reduce((acc, r) => acc + r.framesInWindow, 0) / options.durationS
    row.publishedPerS = pub.storedInWindow / options.durationS
    row.shedShare = pub.shed / total
    row.minPerSubscriberPerS = Math.min(...subs.map((r) => r.minPerSubscriberInWindow)) / options.durationS
    row.latency = { p50: histogram.percentile(50), p99: histogram.percentile(99), max: histogram.max }
    row.okLatency = pub.okLatency
    row.lateness = pub.lateness
    row.problems = problemsOf(subs, pub, total, behind)
    row.complete = row.problems.length === 0
  } catch (error) {
    row.error = (error as Error).message
  } finally {
    await publisher.close()
    await pool?.close()
  }
  if (edge.generation() !== generation) {
    row.edgeRestarted = true
    row.complete = false
    row.error = 'the edge restarted mid-row (wrangler dev restarts workerd when a source file changes)'
  }
  return row
}
