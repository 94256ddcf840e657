/**
 * Worker thread entry: runs some of the sending clients, each on its own
 * socket and Y.Doc, and paces their pushes against a schedule so the offered
 * rate holds even when timers fire late (a late tick sends what is due, at
 * most MAX_PER_TICK per sender). Each sender's schedule is offset by its
 * index so the pushes of all senders spread evenly instead of in bursts.
 * A push is an entry `{ c, n, t }` to the sender's own array (`run.ts`), or
 * with the rules benchmark's setup a message `{ id, author, text, ts }`
 * signed by the sender's own token (`rules.ts`). Updates from the server are
 * only queued while sending (a sender writes only what it owns, so it does
 * not need them yet) and are merged and applied at the completeness check,
 * which keeps Yjs work off the measured window.
 */
import type { EventLoopUtilization } from 'node:perf_hooks'
import { parentPort, workerData } from 'node:worker_threads'
import { now } from '../lib/worker-pool.ts'
import { DocClient } from './doc-client.ts'
import type { FromWorker, SenderSetup, ToWorker } from './load-protocol.ts'
import { closedSocket, missingEntries, senderArray } from './load-protocol.ts'
import { benchMessage, countsBySender, MESSAGES, missingAgainst } from './rules-load.ts'
import { framing } from './wire-dialects.ts'

const TICK_MS = 5
const MAX_PER_TICK = 50

const setup = workerData as SenderSetup
const port = parentPort
if (port === null) throw new Error('sender-worker.ts runs as a worker thread')
const post = (message: FromWorker) => port.postMessage(message)

let clients: DocClient[] = []
let stoppedAt = Number.NaN
const sent: number[] = new Array<number>(setup.totalSenders).fill(0)

/** What sender `i` of this worker pushes this tick: `push(n, t)` appends its update `n` sent at `t`. */
function pusher(client: DocClient, i: number, c: number): ((n: number, t: number) => void) | null {
  if (setup.dids === null) {
    const array = senderArray(client.doc, c)
    return (n, t) => array.push([{ c, n, t }])
  }
  const did = setup.dids[i]
  if (did === undefined) return null
  const messages = client.doc.getArray(MESSAGES)
  return (n, t) => messages.push([benchMessage(c, n, t, did)])
}

async function connectAll(): Promise<void> {
  const wire = framing(setup.dialect, setup.documentName)
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
      if (client === undefined || c === undefined || client.closed !== null) continue
      const push = pusher(client, i, c)
      if (push === null) continue
      const due = Math.floor(elapsedS * setup.ratePerSender + c / total) - (sent[c] ?? 0)
      if (due > maxLag) maxLag = due
      for (let k = 0; k < Math.min(due, MAX_PER_TICK); k++) {
        const sendTime = now()
        if (lossPending && sendTime >= measureFrom) {
          client.dropNextLocalUpdate = true
          lossPending = false
        }
        push(sent[c] ?? 0, sendTime)
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
    return setup.dids === null
      ? missingEntries(client.doc, expected)
      : missingAgainst(countsBySender(client.doc, expected.length), expected)
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
