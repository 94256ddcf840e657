/**
 * Worker thread entry of the rules benchmark: runs some of the senders,
 * each on its own socket (its own token, so its own DID) and Y.Doc, and
 * paces their messages against a schedule as `sender-worker.ts` does (a late
 * tick sends what is due, at most MAX_PER_TICK per sender; schedules offset
 * by sender index). It speaks the same messages with the runner
 * (`load-protocol.ts`: start, check, close). Updates from the relay are
 * queued while sending and applied at the completeness check.
 */
import type { EventLoopUtilization } from 'node:perf_hooks'
import { parentPort, workerData } from 'node:worker_threads'
import { DocClient, now } from './doc-client.ts'
import type { FromWorker, ToWorker } from './load-protocol.ts'
import { closedSocket } from './load-protocol.ts'
import { benchMessage, countsBySender, MESSAGES, missingAgainst, type RulesSenderSetup } from './rules-load.ts'
import { framing } from './wire-dialects.ts'

const TICK_MS = 5
const MAX_PER_TICK = 50

const setup = workerData as RulesSenderSetup
const port = parentPort
if (port === null) throw new Error('rules-worker.ts runs as a worker thread')
const post = (message: FromWorker) => port.postMessage(message)

let clients: DocClient[] = []
let stoppedAt = Number.NaN
const sent: number[] = new Array<number>(setup.totalSenders).fill(0)

async function connectAll(): Promise<void> {
  const wire = framing('yjs', '')
  clients = await Promise.all(
    setup.urls.map((url) => DocClient.connect(url, wire, setup.connectTimeoutMs, { deferApply: true })),
  )
  post({ type: 'ready' })
}

function run(startAt: number, measureFrom: number, stopAt: number): void {
  stoppedAt = stopAt
  let sentInWindow = 0
  let maxLag = 0
  let lossPending = setup.injectLoss
  let eluFrom: EventLoopUtilization | null = null
  const total = setup.totalSenders
  let timer: NodeJS.Timeout | undefined
  const tick = () => {
    const t = now()
    if (eluFrom === null && t >= measureFrom) eluFrom = performance.eventLoopUtilization()
    const elapsedS = (Math.min(t, stopAt) - startAt) / 1000
    for (let i = 0; i < clients.length; i++) {
      const client = clients[i]
      const c = setup.senders[i]
      const did = setup.dids[i]
      if (client === undefined || c === undefined || did === undefined || client.closed !== null) continue
      const due = Math.floor(elapsedS * setup.ratePerSender + c / total) - (sent[c] ?? 0)
      if (due > maxLag) maxLag = due
      const messages = client.doc.getArray(MESSAGES)
      for (let k = 0; k < Math.min(due, MAX_PER_TICK); k++) {
        const sendTime = now()
        if (lossPending && sendTime >= measureFrom) {
          client.dropNextLocalUpdate = true
          lossPending = false
        }
        messages.push([benchMessage(c, sent[c] ?? 0, sendTime, did)])
        sent[c] = (sent[c] ?? 0) + 1
        if (sendTime >= measureFrom) sentInWindow++
      }
    }
    if (t >= stopAt) {
      clearInterval(timer)
      const elu = eluFrom === null ? 0 : performance.eventLoopUtilization(eluFrom).utilization
      post({ type: 'stopped', report: { sent, sentInWindow, eventLoopUtilization: elu, maxLag } })
    }
  }
  setTimeout(
    () => {
      timer = setInterval(tick, TICK_MS)
    },
    Math.max(0, startAt - now()),
  )
}

function check(expected: number[]): void {
  const missing = clients.map((client) => {
    client.applyQueued()
    return missingAgainst(countsBySender(client.doc, expected.length), expected)
  })
  const closed = clients.flatMap((client, i) =>
    client.closed === null
      ? []
      : [closedSocket(`sender ${setup.senders[i]}`, client.closed, client.closedAt, stoppedAt)],
  )
  post({ type: 'check', report: { missing, closed } })
}

port.on('message', (message: ToWorker) => {
  try {
    if (message.type === 'start') run(message.startAt, message.measureFrom, message.stopAt)
    else if (message.type === 'check') check(message.expected)
    else if (message.type === 'close') {
      void Promise.all(clients.map((client) => client.close())).finally(() => post({ type: 'closed' }))
    }
  } catch (error) {
    post({ type: 'error', message: (error as Error).message })
  }
})

connectAll().catch((error: unknown) => post({ type: 'error', message: (error as Error).message }))
