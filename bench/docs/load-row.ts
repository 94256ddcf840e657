/**
 * One row of a document load: one server, one offered rate, a fresh
 * document. Observer first, then the senders; warm-up, measured window,
 * stop; then the completeness check: every client (observer and senders)
 * must hold exactly as many entries of each sender as it sent, within the
 * drain deadline. `run.ts` (every server) and `rules.ts` (the relay before
 * and after its trust checks) run their rows here; what differs, the
 * observer and what the senders push, is the row's `RowPlan`.
 */
import type { EventLoopUtilization } from 'node:perf_hooks'
import { sleep } from '../lib/child-process.ts'
import { machineBusyMs } from '../lib/process-cpu.ts'
import { progress, waitForQuiet } from '../lib/run-environment.ts'
import { type LatencySummary, summarize } from '../lib/stats.ts'
import { now } from '../lib/worker-pool.ts'
import type { RowOptions } from './cli-options.ts'
import type { ClosedSocket } from './load-protocol.ts'
import type { Observer } from './observer.ts'
import { SenderPool, type SendersPlan } from './sender-pool.ts'

export interface LoadRow {
  offered: number
  clients: number
  /** Updates/s the senders actually sent in the window. */
  sentPerS: number
  /** Entries/s that reached the observer in the window. */
  deliveredPerS: number
  /** Fan-out latency of entries sent in the window and delivered (ms). */
  latency: LatencySummary
  complete: boolean
  totalSent: number
  /** Entries the observer lacks at the end of the drain. */
  missingAtObserver: number
  /** Senders whose doc lacks entries at the end, and the most one of them lacks. */
  sendersIncomplete: number
  maxMissingAtSender: number
  /** From the senders' stop until the observer held every update (ms), or null if it never did. */
  drainMs: number | null
  /** CPU of the server's processes over the window, in cores (1 = one core busy). */
  serverCores: number | null
  /** CPU of the runner (observer and sender threads) over the window, in cores. */
  clientCores: number
  /** CPU of everything else on the machine over the window, in cores: disturbance. */
  otherCores: number | null
  /** Cores other processes used just before the row (after the quiet wait). */
  otherBefore: number | null
  senderEventLoop: number[]
  observerEventLoop: number
  /** Most updates one sender fell behind its schedule: a sign the client side was saturated. */
  maxSenderLag: number
  outOfOrder: number
  /** Entries reaching the observer per second from the senders' start (JSON only): shows stalls. */
  observerPerSecond: number[]
  closed: ClosedSocket[]
  error: string | null
}

/** What a row measures and how its clients reach it. */
export interface RowPlan {
  /** The server measured: its CPU, and whether it died. */
  target: { cpuMs(): number | null; died(): string | null }
  /** Its name in the row's error when it dies (`server`, `edge`). */
  targetWord: string
  /** Connects the observer (it must be in the document before the senders). */
  openObserver(): Promise<Observer>
  senders: Pick<SendersPlan, 'dialect' | 'documentName' | 'urlOf' | 'didOf'>
}

interface CpuSample {
  server: number | null
  machine: number | null
  client: NodeJS.CpuUsage
  elu: EventLoopUtilization
}

export const CONNECT_MS = 15_000
const CHECK_EVERY_MS = 250
const OBSERVER_POLL_MS = 20

/** Runs one row of `plan` at `rate` updates/s; a failure ends the row with its error, never the run. */
export async function runLoadRow(plan: RowPlan, options: RowOptions, rate: number): Promise<LoadRow> {
  const row: LoadRow = {
    offered: rate,
    clients: options.clients,
    sentPerS: 0,
    deliveredPerS: 0,
    latency: summarize([]),
    complete: false,
    totalSent: 0,
    missingAtObserver: 0,
    sendersIncomplete: 0,
    maxMissingAtSender: 0,
    drainMs: null,
    serverCores: null,
    clientCores: 0,
    otherCores: null,
    otherBefore: null,
    senderEventLoop: [],
    observerEventLoop: 0,
    maxSenderLag: 0,
    outOfOrder: 0,
    observerPerSecond: [],
    closed: [],
    error: null,
  }
  const { target } = plan
  let observer: Observer | null = null
  let pool: SenderPool | null = null
  let stopAt = Number.NaN
  row.otherBefore = await waitForQuiet(() => target.cpuMs(), options.quietWaitS * 1000)
  if (row.otherBefore !== null && row.otherBefore >= 0.3) {
    progress(`other processes use ${row.otherBefore.toFixed(2)} cores; measuring anyway after ${options.quietWaitS} s`)
  }
  try {
    observer = await plan.openObserver()
    pool = await SenderPool.open({
      ...plan.senders,
      workers: options.workers,
      totalSenders: options.clients,
      ratePerSender: rate / options.clients,
      connectTimeoutMs: CONNECT_MS,
      injectLoss: options.injectLoss,
    })
    const startAt = now() + 200
    const measureFrom = startAt + options.warmupS * 1000
    stopAt = measureFrom + options.durationS * 1000
    observer.arrivals.setWindow(startAt, measureFrom, stopAt)
    const mark: { start: CpuSample | null } = { start: null }
    setTimeout(() => (mark.start = sampleCpu(target)), Math.max(0, measureFrom - now()))
    const reports = await pool.run(startAt, measureFrom, stopAt)
    const stoppedAt = now()
    if (mark.start !== null) Object.assign(row, cpuOverWindow(mark.start, target, stopAt - measureFrom))
    const expected = Array.from({ length: options.clients }, (_, c) =>
      reports.reduce((sum, report) => sum + (report.sent[c] ?? 0), 0),
    )
    row.totalSent = expected.reduce((a, b) => a + b, 0)
    row.sentPerS = reports.reduce((a, r) => a + r.sentInWindow, 0) / options.durationS
    row.senderEventLoop = reports.map((r) => r.eventLoopUtilization)
    row.maxSenderLag = Math.max(...reports.map((r) => r.maxLag))
    await checkCompleteness(row, { pool, observer, target, expected, stoppedAt, drainMs: options.drainS * 1000 })
  } catch (error) {
    row.error = (error as Error).message
  } finally {
    if (observer !== null) {
      const { arrivals } = observer
      row.deliveredPerS = arrivals.deliveredInWindow / options.durationS
      row.latency = summarize(arrivals.latencies)
      row.outOfOrder = arrivals.outOfOrder
      row.observerPerSecond = [...arrivals.perSecond]
      const closed = observer.closedSocket(stopAt)
      if (closed !== null) row.closed.push(closed)
    }
    await pool?.close()
    await observer?.close()
  }
  const died = target.died()
  if (died !== null) row.error = `${row.error ?? ''} ${plan.targetWord} died: ${died}`.trim()
  return row
}

function sampleCpu(target: RowPlan['target']): CpuSample {
  return {
    server: target.cpuMs(),
    machine: machineBusyMs(),
    client: process.cpuUsage(),
    elu: performance.eventLoopUtilization(),
  }
}

function cpuOverWindow(start: CpuSample, target: RowPlan['target'], windowMs: number) {
  const end = sampleCpu(target)
  const client = process.cpuUsage(start.client)
  const clientCores = (client.user + client.system) / 1000 / windowMs
  // A server that died mid-window took some of its processes' CPU time with it.
  const serverCores =
    target.died() === null && end.server !== null && start.server !== null
      ? (end.server - start.server) / windowMs
      : null
  const machineCores = end.machine !== null && start.machine !== null ? (end.machine - start.machine) / windowMs : null
  return {
    serverCores,
    clientCores,
    otherCores: machineCores === null ? null : Math.max(0, machineCores - clientCores - (serverCores ?? 0)),
    observerEventLoop: performance.eventLoopUtilization(start.elu).utilization,
  } satisfies Partial<LoadRow>
}

interface Drain {
  pool: SenderPool
  observer: Observer
  target: RowPlan['target']
  expected: number[]
  stoppedAt: number
  drainMs: number
}

/**
 * Waits, up to the drain time after the stop, until the observer and every
 * sender hold every entry. The senders' first check applies all they queued
 * (seconds of Yjs work at high rates), so it starts at once, alongside polling
 * the observer, and may end past the deadline.
 */
async function checkCompleteness(row: LoadRow, d: Drain): Promise<void> {
  const deadline = d.stoppedAt + d.drainMs
  let checking = d.pool.check(d.expected)
  void checking.catch(() => {})
  for (let i = 0; i < Math.ceil(d.drainMs / OBSERVER_POLL_MS) + 1; i++) {
    row.missingAtObserver = d.observer.missing(d.expected)
    if (row.missingAtObserver === 0) {
      row.drainMs = now() - d.stoppedAt
      break
    }
    if (now() >= deadline || d.target.died() !== null) break
    await sleep(OBSERVER_POLL_MS)
  }
  for (let i = 0; i < Math.ceil(d.drainMs / CHECK_EVERY_MS) + 1; i++) {
    const checks = await checking
    const missing = checks.flatMap((c) => c.missing)
    row.missingAtObserver = d.observer.missing(d.expected)
    row.sendersIncomplete = missing.filter((m) => m > 0).length
    row.maxMissingAtSender = Math.max(0, ...missing)
    row.closed = checks.flatMap((c) => c.closed)
    if (row.missingAtObserver === 0 && row.sendersIncomplete === 0) {
      row.complete = true
      return
    }
    if (now() >= deadline || d.target.died() !== null) return
    await sleep(CHECK_EVERY_MS)
    checking = d.pool.check(d.expected)
  }
}
