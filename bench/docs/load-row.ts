/**
 * One row of the fan-out table: one server, one offered rate, a fresh
 * document. Observer first, then the senders; warm-up, measured window,
 * stop; then the completeness check: every client (observer and senders)
 * must hold exactly as many entries of each sender as it sent, within the
 * drain deadline.
 */
import type { EventLoopUtilization } from 'node:perf_hooks'
import { sleep } from './child-processes.ts'
import type { LoadOptions } from './cli-options.ts'
import { now } from './doc-client.ts'
import { FanoutObserver } from './fanout-observer.ts'
import type { ClosedSocket } from './load-protocol.ts'
import { machineBusyMs, progress, waitForQuiet } from './run-environment.ts'
import { SenderPool } from './sender-pool.ts'
import type { RunningServer, ServerName } from './server-targets.ts'
import { type LatencySummary, summarize } from './stats.ts'
import { framing } from './wire-dialects.ts'

export interface RowResult {
  server: ServerName
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
  senderEventLoop: number[]
  observerEventLoop: number
  /** Most updates one sender fell behind its schedule: a sign the client side was saturated. */
  maxSenderLag: number
  outOfOrder: number
  /** Entries reaching the observer per second from the senders' start (JSON only). */
  observerPerSecond: number[]
  closed: ClosedSocket[]
  error: string | null
}

interface CpuSample {
  server: number | null
  machine: number | null
  client: NodeJS.CpuUsage
  elu: EventLoopUtilization
}

const CONNECT_MS = 15_000
const CHECK_EVERY_MS = 250
const OBSERVER_POLL_MS = 20

export async function runRow(server: RunningServer, options: LoadOptions, rate: number, runId: string) {
  const docId = `bench-${runId}-${server.name}-${rate}`
  const url = server.urlFor(docId)
  const wire = framing(server.dialect, docId)
  const result: RowResult = {
    server: server.name,
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
    senderEventLoop: [],
    observerEventLoop: 0,
    maxSenderLag: 0,
    outOfOrder: 0,
    observerPerSecond: [],
    closed: [],
    error: null,
  }
  let observer: FanoutObserver | null = null
  let pool: SenderPool | null = null
  let stopAt = Number.NaN
  const otherBefore = await waitForQuiet(() => server.cpuMs(), options.quietWaitS * 1000)
  if (otherBefore !== null && otherBefore >= 0.3) {
    progress(`other processes use ${otherBefore.toFixed(2)} cores; measuring anyway after ${options.quietWaitS} s`)
  }
  try {
    observer = await FanoutObserver.open(url, wire, options.clients, CONNECT_MS)
    pool = await SenderPool.open({
      url,
      dialect: server.dialect,
      documentName: docId,
      senders: options.clients,
      workers: options.workers,
      ratePerSender: rate / options.clients,
      connectTimeoutMs: CONNECT_MS,
      injectLoss: options.injectLoss,
    })
    const startAt = now() + 200
    const measureFrom = startAt + options.warmupS * 1000
    stopAt = measureFrom + options.durationS * 1000
    observer.setWindow(startAt, measureFrom, stopAt)
    const mark: { start: CpuSample | null } = { start: null }
    setTimeout(() => (mark.start = sampleCpu(server)), Math.max(0, measureFrom - now()))
    const reports = await pool.run(startAt, measureFrom, stopAt)
    const stoppedAt = now()
    if (mark.start !== null) Object.assign(result, cpuOverWindow(mark.start, server, stopAt - measureFrom))
    const expected = Array.from({ length: options.clients }, (_, c) =>
      reports.reduce((sum, report) => sum + (report.sent[c] ?? 0), 0),
    )
    result.totalSent = expected.reduce((a, b) => a + b, 0)
    result.sentPerS = reports.reduce((a, r) => a + r.sentInWindow, 0) / options.durationS
    result.senderEventLoop = reports.map((r) => r.eventLoopUtilization)
    result.maxSenderLag = Math.max(...reports.map((r) => r.maxLag))

    await checkCompleteness(result, { pool, observer, server, expected, stoppedAt, drainMs: options.drainS * 1000 })
  } catch (error) {
    result.error = (error as Error).message
  } finally {
    if (observer !== null) {
      result.deliveredPerS = observer.deliveredInWindow / options.durationS
      result.latency = summarize(observer.latencies)
      result.outOfOrder = observer.outOfOrder
      result.observerPerSecond = [...observer.perSecond]
      const closed = observer.closedSocket(stopAt)
      if (closed !== null) result.closed.push(closed)
    }
    await pool?.close()
    await observer?.close()
  }
  const died = server.died()
  if (died !== null) result.error = `${result.error ?? ''} server died: ${died}`.trim()
  return result
}

function sampleCpu(server: RunningServer): CpuSample {
  return {
    server: server.cpuMs(),
    machine: machineBusyMs(),
    client: process.cpuUsage(),
    elu: performance.eventLoopUtilization(),
  }
}

function cpuOverWindow(start: CpuSample, server: RunningServer, windowMs: number) {
  const end = sampleCpu(server)
  const client = process.cpuUsage(start.client)
  const clientCores = (client.user + client.system) / 1000 / windowMs
  // A server that died mid-window took some of its processes' CPU time with it.
  const serverCores =
    server.died() === null && end.server !== null && start.server !== null
      ? (end.server - start.server) / windowMs
      : null
  const machineCores = end.machine !== null && start.machine !== null ? (end.machine - start.machine) / windowMs : null
  return {
    serverCores,
    clientCores,
    otherCores: machineCores === null ? null : Math.max(0, machineCores - clientCores - (serverCores ?? 0)),
    observerEventLoop: performance.eventLoopUtilization(start.elu).utilization,
  } satisfies Partial<RowResult>
}

interface Drain {
  pool: SenderPool
  observer: FanoutObserver
  server: RunningServer
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
async function checkCompleteness(result: RowResult, d: Drain): Promise<void> {
  const deadline = d.stoppedAt + d.drainMs
  let checking = d.pool.check(d.expected)
  void checking.catch(() => {})
  for (let i = 0; i < Math.ceil(d.drainMs / OBSERVER_POLL_MS) + 1; i++) {
    result.missingAtObserver = d.observer.missing(d.expected)
    if (result.missingAtObserver === 0) {
      result.drainMs = now() - d.stoppedAt
      break
    }
    if (now() >= deadline || d.server.died() !== null) break
    await sleep(OBSERVER_POLL_MS)
  }
  for (let i = 0; i < Math.ceil(d.drainMs / CHECK_EVERY_MS) + 1; i++) {
    const checks = await checking
    const missing = checks.flatMap((c) => c.missing)
    result.missingAtObserver = d.observer.missing(d.expected)
    result.sendersIncomplete = missing.filter((m) => m > 0).length
    result.maxMissingAtSender = Math.max(0, ...missing)
    result.closed = checks.flatMap((c) => c.closed)
    if (result.missingAtObserver === 0 && result.sendersIncomplete === 0) {
      result.complete = true
      return
    }
    if (now() >= deadline || d.server.died() !== null) return
    await sleep(CHECK_EVERY_MS)
    checking = d.pool.check(d.expected)
  }
}
