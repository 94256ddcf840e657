/**
 * Worker thread entry: holds some of a row's subscriber sockets. Each frame
 * is decoded with the shared `decodeTopicServerFrame` (a `msgs` frame is its
 * messages in order) and nothing else is done but bookkeeping: cursor order, a per-message seen-count, the latency
 * histogram and an `ack` every `Limits.topicAckEvery` messages, as the SDK
 * does (the room drops a socket with more than 2,000 unacknowledged). The completeness check runs only when the
 * runner asks, after the row.
 */
import { parentPort, workerData } from 'node:worker_threads'
import WebSocket from 'ws'
import {
  decodeTopicServerFrame,
  encodeTopicFrame,
  Limits,
  TopicFrameType,
  topicMessagesOf,
} from '../../shared/src/index.ts'
import { LatencyHistogram } from '../lib/stats.ts'
import { now } from '../lib/worker-pool.ts'
import {
  decodePayload,
  type FromSubscribers,
  Published,
  type SubscriberReport,
  type SubscriberSetup,
  type ToSubscribers,
} from './bench-protocol.ts'

const ACK_EVERY = Limits.topicAckEvery
const CONNECT_BATCH = 50

const setup = workerData as SubscriberSetup
const port = parentPort
if (port === null) throw new Error('subscriber-worker.ts runs as a worker thread')
const post = (message: FromSubscribers) => port.postMessage(message)

interface Subscriber {
  readonly ws: WebSocket
  readonly seen: Uint8Array
  /** The last cursor received (`live`'s cursor before the first message); -1 before `live`. */
  last: number
  sinceAck: number
  reordered: number
  skipped: number
  unexpected: number
  odd: number
  inWindow: number
  /** Frames carrying messages (`msg` or `msgs`) that arrived inside the window. */
  framesInWindow: number
  /** Set when the room (or the network) closed the socket; null while open or closed by us. */
  closed: string | null
  closing: boolean
}

const histogram = new LatencyHistogram()
let window = { from: Number.POSITIVE_INFINITY, to: Number.POSITIVE_INFINITY }
let lossPending = setup.injectLoss
let subscribers: Subscriber[] = []

function ack(sub: Subscriber): void {
  sub.sinceAck = 0
  if (sub.ws.readyState === WebSocket.OPEN) sub.ws.send(encodeTopicFrame({ t: TopicFrameType.Ack, c: sub.last }))
}

function onMessage(sub: Subscriber, cursor: number, payload: Uint8Array, at: number): void {
  const p = decodePayload(payload)
  if (lossPending && p !== null && p.sendAt >= window.from) {
    lossPending = false // the injected loss: this message is ignored as if it never came
    return
  }
  if (cursor !== sub.last + 1) {
    if (cursor <= sub.last) sub.reordered++
    else sub.skipped += cursor - sub.last - 1
  }
  if (cursor > sub.last) sub.last = cursor
  if (p === null || p.seq >= sub.seen.length) sub.unexpected++
  else {
    const n = sub.seen[p.seq] ?? 0
    if (n < 255) sub.seen[p.seq] = n + 1
    if (p.sendAt >= window.from && p.sendAt < window.to) histogram.add(at - p.sendAt)
  }
  if (at >= window.from && at < window.to) sub.inWindow++
  if (++sub.sinceAck >= ACK_EVERY) ack(sub)
}

function bytesOf(data: WebSocket.RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data)
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data
}

function connect(deadline: number): Promise<Subscriber> {
  const ws = new WebSocket(setup.url, { perMessageDeflate: false })
  ws.binaryType = 'nodebuffer'
  const sub: Subscriber = {
    ws,
    seen: new Uint8Array(setup.capacity),
    last: -1,
    sinceAck: 0,
    reordered: 0,
    skipped: 0,
    unexpected: 0,
    odd: 0,
    inWindow: 0,
    framesInWindow: 0,
    closed: null,
    closing: false,
  }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error('no `live` frame in time')), Math.max(0, deadline - Date.now()))
    const fail = (error: Error) => {
      clearTimeout(timer)
      ws.terminate()
      reject(error)
    }
    ws.on('message', (data: WebSocket.RawData) => {
      const at = now()
      let frame: ReturnType<typeof decodeTopicServerFrame>
      try {
        frame = decodeTopicServerFrame(bytesOf(data))
      } catch {
        sub.odd++
        return
      }
      const messages = topicMessagesOf(frame)
      if (messages.length > 0) {
        if (at >= window.from && at < window.to) sub.framesInWindow++
        for (const m of messages) onMessage(sub, m.c, m.e.payload, at)
      } else if (frame.t === TopicFrameType.Live && sub.last === -1) {
        sub.last = frame.c
        clearTimeout(timer)
        resolve(sub)
      } else sub.odd++
    })
    ws.on('close', (code: number, reason: Buffer) => {
      if (!sub.closing) sub.closed = `${code}${reason.length > 0 ? ` ${reason.toString('utf8')}` : ''}`
      if (sub.last === -1) fail(new Error(`closed before \`live\`: ${sub.closed}`))
    })
    ws.on('error', (error: Error) => {
      if (sub.last === -1) fail(error)
    })
  })
}

async function connectAll(): Promise<void> {
  const started = now()
  const deadline = Date.now() + setup.connectTimeoutMs
  for (let i = 0; i < setup.count; i += CONNECT_BATCH) {
    const batch = Math.min(CONNECT_BATCH, setup.count - i)
    subscribers.push(...(await Promise.all(Array.from({ length: batch }, () => connect(deadline)))))
  }
  post({ type: 'ready', connectMs: now() - started })
}

function check(published: Uint8Array): SubscriberReport {
  const report: SubscriberReport = {
    subscribers: subscribers.length,
    complete: 0,
    lost: 0,
    duplicates: 0,
    reordered: 0,
    skippedCursors: 0,
    unexpected: 0,
    oddFrames: 0,
    closes: {},
    deliveredInWindow: 0,
    framesInWindow: 0,
    minPerSubscriberInWindow: Number.POSITIVE_INFINITY,
    histogram: histogram.counts,
    latencyMax: histogram.max,
  }
  for (const sub of subscribers) {
    if (sub.closed === null && sub.sinceAck > 0) ack(sub) // the final acknowledgement
    let lost = 0
    let duplicates = 0
    let unexpected = sub.unexpected
    for (let seq = 0; seq < sub.seen.length; seq++) {
      const n = sub.seen[seq] ?? 0
      const state = published[seq] ?? Published.None
      if (state === Published.Stored && n === 0) lost++
      if (n > 1) duplicates += n - 1
      if (state === Published.None && n > 0) unexpected += n
    }
    report.lost += lost
    report.duplicates += duplicates
    report.unexpected += unexpected
    report.reordered += sub.reordered
    report.skippedCursors += sub.skipped
    report.oddFrames += sub.odd
    report.deliveredInWindow += sub.inWindow
    report.framesInWindow += sub.framesInWindow
    report.minPerSubscriberInWindow = Math.min(report.minPerSubscriberInWindow, sub.inWindow)
    if (sub.closed !== null) report.closes[sub.closed] = (report.closes[sub.closed] ?? 0) + 1
    const clean = lost + duplicates + unexpected + sub.reordered + sub.skipped + sub.odd === 0
    if (clean && sub.closed === null) report.complete++
  }
  return report
}

function close(): void {
  for (const sub of subscribers) {
    sub.closing = true
    sub.ws.close(1000)
  }
  const started = Date.now()
  const poll = () => {
    const open = subscribers.filter((s) => s.ws.readyState !== WebSocket.CLOSED)
    if (open.length === 0 || Date.now() - started > 2_000) {
      for (const sub of open) sub.ws.terminate()
      subscribers = []
      post({ type: 'closed' })
    } else setTimeout(poll, 50)
  }
  poll()
}

port.on('message', (message: ToSubscribers) => {
  try {
    if (message.type === 'window') window = { from: message.from, to: message.to }
    else if (message.type === 'progress') {
      const open = subscribers.filter((s) => s.closed === null)
      post({ type: 'progress', behind: open.filter((s) => s.last < message.target).length, open: open.length })
    } else if (message.type === 'check') post({ type: 'check', report: check(message.published) })
    else close()
  } catch (error) {
    post({ type: 'error', message: (error as Error).message })
  }
})

connectAll().catch((error: unknown) => post({ type: 'error', message: (error as Error).message }))
