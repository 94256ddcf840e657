/**
 * A child process of `big-topic.test.ts`: holds some of a big topic's
 * subscribers, each a plain WebSocket speaking the topic protocol, and
 * checks what each receives: every cursor once, in order, after its `live`,
 * and every payload (`m<n>`, n rising by one) once, in order. It acks every
 * `Limits.topicAckEvery` messages, as the SDK does.
 *
 *   node big-topic-subscribers.ts <ws url of the topic> <subscribers>
 *
 * Over IPC it says `{ type: "ready" }` once every subscriber has its `live`,
 * answers `{ type: "check", last }` with a `Report` once every subscriber has
 * cursor `last` (or the check's deadline passed), and exits on `{ type:
 * "close" }`.
 */
import WebSocket from 'ws'
import {
  decodeTopicServerFrame,
  encodeTopicFrame,
  Limits,
  TopicFrameType,
  topicMessagesOf,
} from '../../shared/src/index.ts'

/** What one process's subscribers received, summed. */
export interface Report {
  readonly subscribers: number
  /** Subscribers that got every message once, in order, and are still open. */
  readonly complete: number
  readonly messages: number
  readonly duplicates: number
  readonly outOfOrder: number
  readonly skipped: number
  /** Close codes and reasons of subscribers the edge closed. */
  readonly closed: string[]
}

export type ToSubscribers = { type: 'check'; last: number; deadline: number } | { type: 'close' }
export type FromSubscribers = { type: 'ready' } | { type: 'report'; report: Report } | { type: 'failed'; error: string }

interface Subscriber {
  readonly ws: WebSocket
  /** The last cursor received (`live`'s before the first message); -1 before `live`. */
  last: number
  /** The payload number expected next; -1 until the first message. */
  next: number
  messages: number
  duplicates: number
  outOfOrder: number
  skipped: number
  sinceAck: number
  closed: string | null
}

const BATCH = 50
const send = (message: FromSubscribers) => process.send?.(message)

function receive(sub: Subscriber, data: WebSocket.RawData, live: () => void): void {
  const frame = decodeTopicServerFrame(new Uint8Array(data as Buffer))
  if (frame.t === TopicFrameType.Live && sub.last === -1) {
    sub.last = frame.c
    live()
    return
  }
  for (const m of topicMessagesOf(frame)) {
    if (m.c <= sub.last) sub.duplicates++
    else if (m.c !== sub.last + 1) sub.skipped += m.c - sub.last - 1
    sub.last = Math.max(sub.last, m.c)
    const n = Number(new TextDecoder().decode(m.e.payload).slice(1))
    if (sub.next !== -1 && n !== sub.next) sub.outOfOrder++
    sub.next = n + 1
    sub.messages++
    if (++sub.sinceAck >= Limits.topicAckEvery) {
      sub.sinceAck = 0
      sub.ws.send(encodeTopicFrame({ t: TopicFrameType.Ack, c: sub.last }))
    }
  }
}

function connect(url: string): Promise<Subscriber> {
  const ws = new WebSocket(url, { perMessageDeflate: false })
  const sub: Subscriber = {
    ws,
    last: -1,
    next: -1,
    messages: 0,
    duplicates: 0,
    outOfOrder: 0,
    skipped: 0,
    sinceAck: 0,
    closed: null,
  }
  return new Promise((resolve, reject) => {
    ws.on('message', (data) => receive(sub, data, () => resolve(sub)))
    ws.on('close', (code, reason) => {
      sub.closed = `${code} ${reason.toString()}`
      reject(new Error(`closed before live: ${sub.closed}`))
    })
    ws.on('error', reject)
  })
}

function report(subs: readonly Subscriber[], last: number): Report {
  const sum = (pick: (s: Subscriber) => number) => subs.reduce((n, s) => n + pick(s), 0)
  const clean = (s: Subscriber) => s.closed === null && s.last === last && s.duplicates + s.outOfOrder + s.skipped === 0
  return {
    subscribers: subs.length,
    complete: subs.filter(clean).length,
    messages: sum((s) => s.messages),
    duplicates: sum((s) => s.duplicates),
    outOfOrder: sum((s) => s.outOfOrder),
    skipped: sum((s) => s.skipped),
    closed: subs.flatMap((s) => (s.closed === null ? [] : [s.closed])),
  }
}

async function main(): Promise<void> {
  // The test that started this process is gone: so are its subscribers.
  process.on('disconnect', () => process.exit(0))
  const [url, count] = process.argv.slice(2)
  if (url === undefined || count === undefined) throw new Error('usage: big-topic-subscribers.ts <url> <subscribers>')
  const subs: Subscriber[] = []
  for (let i = 0; i < Number(count); i += BATCH) {
    const batch = Math.min(BATCH, Number(count) - i)
    subs.push(...(await Promise.all(Array.from({ length: batch }, () => connect(url)))))
  }
  send({ type: 'ready' })
  process.on('message', async (message: ToSubscribers) => {
    if (message.type === 'close') {
      for (const s of subs) s.ws.terminate()
      process.exit(0)
    }
    while (Date.now() < message.deadline && subs.some((s) => s.closed === null && s.last < message.last)) {
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    send({ type: 'report', report: report(subs, message.last) })
  })
}

main().catch((error: unknown) => {
  send({ type: 'failed', error: String(error) })
  process.exit(1)
})
