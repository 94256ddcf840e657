/**
 * Benchmark of the libp2p mesh (`npm run bench:mesh`): ten bridges on
 * loopback, each in its own worker thread. Gossipsub: signed envelopes
 * published at a steady rate from rotating bridges, each timed from publish
 * to delivery at every other bridge (p50/p99), then a burst from one bridge
 * for messages per second delivered to all. DHT: records put through the
 * record mirror on one bridge and got from another (p50/p99 of each).
 * Progress on stderr, a Markdown table on stdout; exits 1 if anything was
 * not delivered or not found.
 *
 *   node bench/mesh/run.ts [--bridges 10] [--messages 300] [--rate 20] [--burst 1000] [--records 100]
 */
import { parseArgs } from 'node:util'
import { encodeRecord, generateIdentity } from '@vivim/shared'
import { signedRecord } from '../../node-bridge/test/helpers.ts'
import { guardRun, progress } from '../docs/run-environment.ts'
import { count, ms, summarize } from '../docs/stats.ts'
import type { ThreadEvent } from './bridge-thread.ts'
import { startMesh } from './mesh.ts'

const { values } = parseArgs({
  options: {
    bridges: { type: 'string', default: '10' },
    messages: { type: 'string', default: '300' },
    rate: { type: 'string', default: '20' },
    burst: { type: 'string', default: '1000' },
    records: { type: 'string', default: '100' },
  },
})
const n = (v: string | undefined) => Number.parseInt(v ?? '', 10)
const BRIDGES = n(values.bridges)
const MESSAGES = n(values.messages)
const RATE = n(values.rate)
const BURST = n(values.burst)
const RECORDS = n(values.records)
guardRun(15 * 60_000)

const TOPIC = `public:bench:mesh-${Date.now()}`
const mesh = await startMesh(BRIDGES, TOPIC)
const { bridges } = mesh
const sentAt = new Map<string, { at: number; from: number }>()
// Events from different threads reach this one in no particular order: a delivery may arrive
// before its publisher's `sent`, so deliveries are kept by id and matched when asked.
const gotAt = new Map<string, Map<number, number>>()
for (const bridge of bridges) {
  bridge.listen((event) => {
    if (event.type === 'sent') sentAt.set(event.id, { at: event.at, from: bridge.index })
    if (event.type !== 'got') return
    const got = gotAt.get(event.id) ?? new Map<number, number>()
    got.set(bridge.index, event.at)
    gotAt.set(event.id, got)
  })
}
/** How many other bridges got `id`. */
function deliveredTo(id: string): number {
  const from = sentAt.get(id)?.from
  return [...(gotAt.get(id)?.keys() ?? [])].filter((index) => index !== from).length
}
/** Publish-to-delivery times of `ids` at every other bridge, and the last delivery's time. */
function timings(ids: string[]): { latencies: number[]; last: number } {
  const latencies: number[] = []
  let last = 0
  for (const id of ids) {
    const sent = sentAt.get(id)
    if (!sent) continue
    for (const [index, at] of gotAt.get(id) ?? []) {
      if (index === sent.from) continue
      latencies.push(at - sent.at)
      last = Math.max(last, at)
    }
  }
  return { latencies, last }
}
const wallNow = () => performance.timeOrigin + performance.now()
const sleep = (msDelay: number) => new Promise((r) => setTimeout(r, msDelay))

/** Ids sent from `from` since `since` (the thread reports each publish with its id). */
function sentSince(since: number): string[] {
  return [...sentAt].filter(([, s]) => s.at >= since).map(([id]) => id)
}

async function waitDelivered(expected: number, since: number, guardMs: number): Promise<string[]> {
  const end = Date.now() + guardMs
  const want = BRIDGES - 1
  let ids = sentSince(since)
  while (Date.now() < end) {
    ids = sentSince(since)
    if (ids.length === expected && ids.every((id) => deliveredTo(id) >= want)) break
    await sleep(20)
  }
  return ids
}
const completeOf = (ids: string[]) => ids.filter((id) => deliveredTo(id) >= BRIDGES - 1).length
const deliveriesOf = (ids: string[]) => ids.reduce((sum, id) => sum + deliveredTo(id), 0)

// Steady rate, rotating publishers: delivery latency.
progress(`gossipsub: ${MESSAGES} messages at ${RATE}/s`)
const steadyStart = wallNow()
for (let i = 0; i < MESSAGES; i++) {
  const wait = steadyStart + (i * 1000) / RATE - wallNow()
  if (wait > 0) await sleep(wait)
  bridges[i % BRIDGES]?.send({ type: 'publish', text: `steady ${i}` })
}
const steady = await waitDelivered(MESSAGES, steadyStart, 30_000)
const steadyLatency = summarize(timings(steady).latencies)

// Burst from one bridge: messages per second delivered to every other bridge.
progress(`gossipsub: burst of ${BURST} from one bridge`)
const burstStart = wallNow()
for (let i = 0; i < BURST; i++) bridges[0]?.send({ type: 'publish', text: `burst ${i}` })
const burst = await waitDelivered(BURST, burstStart, 90_000)
// Until the last delivery, not the end of the wait: a message that never arrives must not dilute the rate.
const burstTimings = timings(burst)
const burstSeconds = (burstTimings.last - burstStart) / 1000
const burstLatency = summarize(burstTimings.latencies)

// DHT: put on one bridge, get from another.
progress(`dht: ${RECORDS} puts and gets`)
const puts: number[] = []
const gets: number[] = []
let found = 0
for (let i = 0; i < RECORDS; i++) {
  const { key, record } = signedRecord(generateIdentity(), `record ${i}`)
  const putter = bridges[i % BRIDGES]
  const getter = bridges[(i + 1 + (i % (BRIDGES - 1))) % BRIDGES]
  if (!putter || !getter) break
  const put = putter.next((e): e is Extract<ThreadEvent, { type: 'put' }> => e.type === 'put')
  putter.send({ type: 'put', bytes: encodeRecord(record) })
  puts.push((await put).ms)
  const got = getter.next((e): e is Extract<ThreadEvent, { type: 'got-record' }> => e.type === 'got-record')
  getter.send({ type: 'get', key })
  const answer = await got
  gets.push(answer.ms)
  if (answer.found) found++
}
const put = summarize(puts)
const get = summarize(gets)
const counted = await mesh.stop()
progress(`connections closed during the run: ${counted.connectionsClosed}; messages rejected: ${counted.rejected}`)

const steadyComplete = completeOf(steady)
const burstComplete = completeOf(burst)
const row = (cells: string[]) => `| ${cells.join(' | ')} |`
console.log(`Mesh benchmark: ${BRIDGES} bridges on 127.0.0.1, one worker thread each, Node ${process.version}\n`)
console.log(row(['measure', 'delivered / done', 'p50 ms', 'p99 ms', 'per second']))
console.log(row(['---', '---', '---', '---', '---']))
console.log(
  row([
    `Gossipsub, ${RATE}/s, rotating publishers`,
    `${count(steadyComplete)}/${count(MESSAGES)} to all ${BRIDGES - 1} (${count(deliveriesOf(steady))}/${count(MESSAGES * (BRIDGES - 1))} deliveries)`,
    ms(steadyLatency.p50),
    ms(steadyLatency.p99),
    `${count(RATE * (BRIDGES - 1))} deliveries`,
  ]),
)
console.log(
  row([
    'Gossipsub, burst from one bridge (latency = queueing)',
    `${count(burstComplete)}/${count(BURST)} to all ${BRIDGES - 1}`,
    ms(burstLatency.p50),
    ms(burstLatency.p99),
    `${count(burstComplete / burstSeconds)} messages (${count((burstComplete * (BRIDGES - 1)) / burstSeconds)} deliveries)`,
  ]),
)
console.log(
  row([
    'DHT put (record mirror: check, put, provide)',
    count(puts.length),
    ms(put.p50),
    ms(put.p99),
    count(1000 / (put.p50 || 1)),
  ]),
)
console.log(
  row([
    'DHT get from another bridge',
    `${count(found)}/${count(gets.length)} found`,
    ms(get.p50),
    ms(get.p99),
    count(1000 / (get.p50 || 1)),
  ]),
)
console.log(`\nConnections closed during the run, all bridges: ${count(counted.connectionsClosed)}.`)
process.exit(steadyComplete === MESSAGES && burstComplete === BURST && found === RECORDS ? 0 : 1)
