/**
 * One row of the rules benchmark: one edge, one offered rate, a fresh
 * `conversation:<uuid>` document with a fresh owner.
 *
 * The observer holds the owner's own token (self-issued, read and write) and
 * connects first, so the document is created and owned by it; it never
 * writes. Each sender has its own Ed25519 identity and token: a grant from
 * the owner (read, write) and the sender's invocation of it addressed to
 * the edge's DID, as an app would hold them. Then warm-up, measured window,
 * stop, and the completeness check of `load-row.ts`: the observer and every
 * sender must hold every message within the drain deadline.
 */
import { randomUUID } from 'node:crypto'
import type { EventLoopUtilization } from 'node:perf_hooks'
import { type Action, encodeCapabilityText, generateIdentity, type Identity, issueCapability } from '@vivim/shared'
import type * as Y from 'yjs'
import { sleep } from './child-processes.ts'
import type { LoadOptions } from './cli-options.ts'
import { DocClient, now } from './doc-client.ts'
import {
  type CheckReport,
  type ClosedSocket,
  closedSocket,
  type FromWorker,
  type SenderReport,
  type ToWorker,
} from './load-protocol.ts'
import type { Edge, Side } from './rules-edges.ts'
import { forEachAdded, messageKey, missingAgainst, type RulesSenderSetup } from './rules-load.ts'
import { machineBusyMs, waitForQuiet } from './run-environment.ts'
import { type LatencySummary, summarize } from './stats.ts'
import { framing } from './wire-dialects.ts'
import { WorkerThread } from './worker-thread.ts'

export interface RulesRow {
  side: Side
  offered: number
  round: number
  docId: string
  clients: number
  sentPerS: number
  deliveredPerS: number
  latency: LatencySummary
  complete: boolean
  totalSent: number
  missingAtObserver: number
  sendersIncomplete: number
  maxMissingAtSender: number
  drainMs: number | null
  /** CPU of the measured edge's processes over the window, in cores. */
  serverCores: number | null
  clientCores: number
  /** CPU of everything but this runner and the measured edge over the window, in cores (the idle edge included). */
  otherCores: number | null
  /** CPU of the other, idle edge over the window, in cores: work left over from its last row. */
  idleEdgeCores: number | null
  /** Cores other processes used just before the row (after the quiet wait). */
  otherBefore: number | null
  senderEventLoop: number[]
  observerEventLoop: number
  maxSenderLag: number
  outOfOrder: number
  /** Messages reaching the observer in each second from the senders' start (JSON only): shows stalls. */
  observerPerSecond: number[]
  closed: ClosedSocket[]
  error: string | null
}

const HOUR_MS = 3_600_000
const CONNECT_MS = 15_000
const CHECK_TIMEOUT_MS = 60_000
const CHECK_EVERY_MS = 250
const OBSERVER_POLL_MS = 20

function token(owner: Identity, user: Identity, edgeDid: string, docId: string, can: Action[]): string {
  const res = `doc:${docId}`
  const exp = Date.now() + HOUR_MS
  const prf = user === owner ? [] : [issueCapability(owner, { aud: user.did, res, can, exp })]
  return encodeCapabilityText(issueCapability(user, { aud: edgeDid, res, can, exp, prf }))
}

/** The observer: the owner's socket; times each message from its embedded send time to its frame's arrival. */
class RulesObserver {
  readonly latencies: number[] = []
  readonly perSecond: number[] = []
  readonly counts: number[]
  deliveredInWindow = 0
  outOfOrder = 0
  private readonly lastSeq: number[]
  private origin = Number.POSITIVE_INFINITY
  private from = Number.POSITIVE_INFINITY
  private to = Number.POSITIVE_INFINITY
  client: DocClient | null = null

  constructor(senders: number) {
    this.counts = new Array<number>(senders).fill(0)
    this.lastSeq = new Array<number>(senders).fill(-1)
  }

  async open(url: string): Promise<void> {
    this.client = await DocClient.connect(url, framing('yjs', ''), CONNECT_MS, {
      prepare: (client) => {
        client.doc.on('afterTransaction', (tr: Y.Transaction) => {
          const at = client.lastFrameAt
          forEachAdded(client.doc, tr, (value) => this.record(value, at))
        })
      },
    })
  }

  setWindow(origin: number, from: number, to: number): void {
    this.origin = origin
    this.from = from
    this.to = to
  }

  missing(expected: readonly number[]): number {
    return missingAgainst(this.counts, expected)
  }

  private record(value: unknown, arrivedAt: number): void {
    const key = messageKey(value)
    if (key === null || key.c >= this.counts.length) return
    this.counts[key.c] = (this.counts[key.c] ?? 0) + 1
    if (key.n !== (this.lastSeq[key.c] ?? -1) + 1) this.outOfOrder++
    this.lastSeq[key.c] = key.n
    const second = Math.floor((arrivedAt - this.origin) / 1000)
    if (second >= 0 && second < 600) {
      for (let i = this.perSecond.length; i <= second; i++) this.perSecond.push(0)
      this.perSecond[second] = (this.perSecond[second] ?? 0) + 1
    }
    if (arrivedAt >= this.from && arrivedAt < this.to) this.deliveredInWindow++
    if (key.t >= this.from && key.t < this.to) this.latencies.push(arrivedAt - key.t)
  }
}

/** A sender thread of `rules-worker.ts`. */
class RulesThread extends WorkerThread<ToWorker, FromWorker> {
  constructor(setup: RulesSenderSetup) {
    super(new URL('./rules-worker.ts', import.meta.url), setup)
  }
}

class RulesPool {
  private readonly threads: RulesThread[]

  private constructor(threads: RulesThread[]) {
    this.threads = threads
  }

  static async open(setups: RulesSenderSetup[]): Promise<RulesPool> {
    const pool = new RulesPool(setups.map((setup) => new RulesThread(setup)))
    try {
      await Promise.all(pool.threads.map((t) => t.request(null, 'ready', CONNECT_MS + 5_000)))
    } catch (error) {
      await pool.close()
      throw error
    }
    return pool
  }

  async run(startAt: number, measureFrom: number, stopAt: number): Promise<SenderReport[]> {
    const timeoutMs = stopAt - Date.now() + 15_000
    const replies = await Promise.all(
      this.threads.map((t) => t.request({ type: 'start', startAt, measureFrom, stopAt }, 'stopped', timeoutMs)),
    )
    return replies.map((r) => r.report)
  }

  async check(expected: number[]): Promise<CheckReport[]> {
    const replies = await Promise.all(
      this.threads.map((t) => t.request({ type: 'check', expected }, 'check', CHECK_TIMEOUT_MS)),
    )
    return replies.map((r) => r.report)
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.threads.map((t) => t.request({ type: 'close' }, 'closed', 3_000)))
    await Promise.allSettled(this.threads.map((t) => t.terminate()))
  }
}

interface CpuSample {
  server: number | null
  idleEdge: number
  machine: number | null
  client: NodeJS.CpuUsage
  elu: EventLoopUtilization
}

/**
 * Runs one row on `edge`. `edges` are both edges of the run: the idle one's
 * CPU counts as a disturbance (the quiet wait waits for it too) and is also
 * reported apart.
 */
export async function runRulesRow(
  edge: Edge,
  edges: readonly Edge[],
  options: LoadOptions,
  rate: number,
  round: number,
): Promise<RulesRow> {
  const docId = `conversation:${randomUUID()}`
  const row: RulesRow = {
    side: edge.side,
    offered: rate,
    round,
    docId,
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
    idleEdgeCores: null,
    otherBefore: null,
    senderEventLoop: [],
    observerEventLoop: 0,
    maxSenderLag: 0,
    outOfOrder: 0,
    observerPerSecond: [],
    closed: [],
    error: null,
  }
  // The idle edge is a disturbance like any other process: a row that fell behind leaves it busy.
  const idleCpu = () => edges.reduce((sum, e) => (e === edge ? sum : sum + (e.cpuMs() ?? 0)), 0)
  const sample = (): CpuSample => ({
    server: edge.cpuMs(),
    idleEdge: idleCpu(),
    machine: machineBusyMs(),
    client: process.cpuUsage(),
    elu: performance.eventLoopUtilization(),
  })
  const owner = generateIdentity()
  const senders = Array.from({ length: options.clients }, () => generateIdentity())
  const observer = new RulesObserver(options.clients)
  let pool: RulesPool | null = null
  let stopAt = Number.NaN
  row.otherBefore = await waitForQuiet(() => edge.cpuMs(), options.quietWaitS * 1000)
  try {
    await observer.open(edge.docUrl(docId, token(owner, owner, edge.did, docId, ['read', 'write'])))
    const workers = Math.max(1, Math.min(options.workers, options.clients))
    const setups = Array.from({ length: workers }, (_, w): RulesSenderSetup => {
      const mine = senders.map((_, c) => c).filter((c) => c % workers === w)
      return {
        senders: mine,
        urls: mine.map((c) =>
          edge.docUrl(docId, token(owner, senders[c] as Identity, edge.did, docId, ['read', 'write'])),
        ),
        dids: mine.map((c) => (senders[c] as Identity).did),
        totalSenders: options.clients,
        ratePerSender: rate / options.clients,
        connectTimeoutMs: CONNECT_MS,
        injectLoss: options.injectLoss && w === 0,
      }
    })
    pool = await RulesPool.open(setups)
    const startAt = now() + 200
    const measureFrom = startAt + options.warmupS * 1000
    stopAt = measureFrom + options.durationS * 1000
    observer.setWindow(startAt, measureFrom, stopAt)
    const mark: { start: CpuSample | null } = { start: null }
    setTimeout(() => (mark.start = sample()), Math.max(0, measureFrom - now()))
    const reports = await pool.run(startAt, measureFrom, stopAt)
    const stoppedAt = now()
    if (mark.start !== null) {
      const start = mark.start
      const end = sample()
      const windowMs = stopAt - measureFrom
      const client = process.cpuUsage(start.client)
      row.clientCores = (client.user + client.system) / 1000 / windowMs
      row.serverCores =
        edge.died() === null && end.server !== null && start.server !== null
          ? (end.server - start.server) / windowMs
          : null
      row.idleEdgeCores = (end.idleEdge - start.idleEdge) / windowMs
      row.otherCores =
        end.machine !== null && start.machine !== null
          ? Math.max(0, (end.machine - start.machine) / windowMs - row.clientCores - (row.serverCores ?? 0))
          : null
      row.observerEventLoop = performance.eventLoopUtilization(start.elu).utilization
    }
    const expected = Array.from({ length: options.clients }, (_, c) =>
      reports.reduce((sum, report) => sum + (report.sent[c] ?? 0), 0),
    )
    row.totalSent = expected.reduce((a, b) => a + b, 0)
    row.sentPerS = reports.reduce((a, r) => a + r.sentInWindow, 0) / options.durationS
    row.senderEventLoop = reports.map((r) => r.eventLoopUtilization)
    row.maxSenderLag = Math.max(...reports.map((r) => r.maxLag))
    await checkCompleteness(row, pool, observer, edge, expected, stoppedAt, options.drainS * 1000)
  } catch (error) {
    row.error = (error as Error).message
  } finally {
    row.deliveredPerS = observer.deliveredInWindow / options.durationS
    row.latency = summarize(observer.latencies)
    row.outOfOrder = observer.outOfOrder
    row.observerPerSecond = [...observer.perSecond]
    const client = observer.client
    if (client?.closed) row.closed.push(closedSocket('observer', client.closed, client.closedAt, stopAt))
    await pool?.close()
    await client?.close()
  }
  const died = edge.died()
  if (died !== null) row.error = `${row.error ?? ''} edge died: ${died}`.trim()
  return row
}

/** As in `load-row.ts`: the observer and every sender must hold every message, within the drain deadline. */
async function checkCompleteness(
  row: RulesRow,
  pool: RulesPool,
  observer: RulesObserver,
  edge: Edge,
  expected: number[],
  stoppedAt: number,
  drainMs: number,
): Promise<void> {
  const deadline = stoppedAt + drainMs
  let checking = pool.check(expected)
  void checking.catch(() => {})
  for (let i = 0; i < Math.ceil(drainMs / OBSERVER_POLL_MS) + 1; i++) {
    row.missingAtObserver = observer.missing(expected)
    if (row.missingAtObserver === 0) {
      row.drainMs = now() - stoppedAt
      break
    }
    if (now() >= deadline || edge.died() !== null) break
    await sleep(OBSERVER_POLL_MS)
  }
  for (let i = 0; i < Math.ceil(drainMs / CHECK_EVERY_MS) + 1; i++) {
    const checks = await checking
    const missing = checks.flatMap((c) => c.missing)
    row.missingAtObserver = observer.missing(expected)
    row.sendersIncomplete = missing.filter((m) => m > 0).length
    row.maxMissingAtSender = Math.max(0, ...missing)
    row.closed = checks.flatMap((c) => c.closed)
    if (row.missingAtObserver === 0 && row.sendersIncomplete === 0) {
      row.complete = true
      return
    }
    if (now() >= deadline || edge.died() !== null) return
    await sleep(CHECK_EVERY_MS)
    checking = pool.check(expected)
  }
}
