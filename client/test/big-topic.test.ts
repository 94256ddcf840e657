/**
 * A big topic on a real edge (`wrangler dev`, started here with the census
 * on): 2,000 subscribers in four child processes (`big-topic-subscribers.ts`)
 * are more than one object serves (`Limits.topicReadersPerObject`), so the
 * topic's room passes most of them to fan-out objects; a publisher behind
 * one of them publishes, and every subscriber must get every message once,
 * in order. The census (`/v1/dev/census`) shows which objects served the
 * topic.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import {
  createEnvelope,
  decodeTopicServerFrame,
  encodeTopicFrame,
  generateIdentity,
  Limits,
  TopicFrameType,
} from '@vivim/shared'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { type RunningEdge, startEdge } from '../../scripts/test-edge.ts'
import type { FromSubscribers, Report, ToSubscribers } from './big-topic-subscribers.ts'

const PROCESSES = 4
const PER_PROCESS = 500
const MESSAGES = 200
const SUBSCRIBERS = PROCESSES * PER_PROCESS

let edge: RunningEdge | null = null
const children: ChildProcess[] = []

beforeAll(async () => {
  edge = await startEdge({ vars: { VIVIM_CENSUS: 'on' } })
}, 180_000)

afterAll(async () => {
  for (const child of children) child.kill()
  await edge?.stop()
}, 30_000)

/** Resolves with the child's next message of `type`; rejects if it fails or exits first. */
function next<T extends FromSubscribers['type']>(
  child: ChildProcess,
  type: T,
): Promise<Extract<FromSubscribers, { type: T }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: FromSubscribers) => {
      if (message.type === 'failed') reject(new Error(message.error))
      else if (message.type === type) {
        child.off('message', onMessage)
        resolve(message as Extract<FromSubscribers, { type: T }>)
      }
    }
    child.on('message', onMessage)
    child.once('exit', (code) => reject(new Error(`a subscriber process exited (${code})`)))
  })
}

/** A publisher socket: sends `count` signed messages `m0`…; resolves with the last `ok` cursor. */
async function publish(url: string, topic: string, count: number): Promise<number> {
  const author = generateIdentity()
  const ws = new WebSocket(url, { perMessageDeflate: false })
  const oks: number[] = []
  const errors: string[] = []
  let live: () => void = () => {}
  const isLive = new Promise<void>((resolve) => (live = resolve))
  ws.on('message', (data) => {
    const frame = decodeTopicServerFrame(new Uint8Array(data as Buffer))
    if (frame.t === TopicFrameType.Live) live()
    if (frame.t === TopicFrameType.Ok) oks.push(frame.c)
    if (frame.t === TopicFrameType.Error) errors.push(frame.message)
  })
  await isLive
  // Within one publisher's burst, so none is refused for its rate.
  expect(count).toBeLessThanOrEqual(Limits.topicPublishBurst)
  for (let i = 0; i < count; i++) {
    const e = createEnvelope(author, { topic, payload: new TextEncoder().encode(`m${i}`) })
    ws.send(encodeTopicFrame({ t: TopicFrameType.Publish, e }))
  }
  while (oks.length + errors.length < count) await new Promise((r) => setTimeout(r, 50))
  ws.close()
  expect(errors).toEqual([])
  return Math.max(...oks)
}

interface CensusRow {
  binding: string
  name: string
}

describe('a topic with more subscribers than one object serves', () => {
  it(`spreads ${SUBSCRIBERS} subscribers in ${PROCESSES} processes over fan-out objects; each gets every message once, in order`, {
    timeout: 240_000,
  }, async () => {
    const base = edge as RunningEdge
    const topic = `public:big:${randomUUID()}`
    const url = `${base.url.replace(/^http/, 'ws')}/v1/topics/${topic}`
    const script = join(import.meta.dirname, 'big-topic-subscribers.ts')
    for (let i = 0; i < PROCESSES; i++) {
      children.push(
        spawn(process.execPath, [script, url, String(PER_PROCESS)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
      )
    }
    await Promise.all(children.map((child) => next(child, 'ready')))

    const last = await publish(url, topic, MESSAGES)
    expect(last).toBe(MESSAGES)
    const check: ToSubscribers = { type: 'check', last, deadline: Date.now() + 60_000 }
    const reports = await Promise.all(
      children.map((child) => {
        const report = next(child, 'report')
        child.send(check)
        return report
      }),
    )
    const total = (pick: (r: Report) => number) => reports.reduce((n, { report }) => n + pick(report), 0)
    expect(reports.flatMap(({ report }) => report.closed)).toEqual([])
    expect({
      complete: total((r) => r.complete),
      messages: total((r) => r.messages),
      duplicates: total((r) => r.duplicates),
      outOfOrder: total((r) => r.outOfOrder),
      skipped: total((r) => r.skipped),
    }).toEqual({ complete: SUBSCRIBERS, messages: SUBSCRIBERS * MESSAGES, duplicates: 0, outOfOrder: 0, skipped: 0 })

    // Served by the room and fan-out objects of its own: all but the room's share went to them.
    const census = (await (await fetch(`${base.url}/v1/dev/census`)).json()) as { objects: CensusRow[] }
    const fanouts = census.objects.filter((o) => o.binding === 'TOPIC_FANOUT' && o.name.startsWith(`${topic}#`))
    expect(fanouts.length).toBeGreaterThanOrEqual(Math.floor(SUBSCRIBERS / Limits.topicReadersPerObject) - 1)
    for (const child of children) child.send({ type: 'close' } satisfies ToSubscribers)
  })
})
