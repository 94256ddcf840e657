/**
 * Benchmark of the libp2p mesh (`npm run bench:mesh`): ten bridges on
 * loopback in one process. Gossipsub: signed envelopes published at a steady
 * rate from rotating bridges, each timed from publish to delivery at every
 * other bridge (p50/p99), then a burst from one bridge for messages per
 * second delivered to all. DHT: records put from one bridge and got from
 * another (p50/p99 of each). Progress on stderr, a Markdown table on stdout.
 *
 *   node bench/mesh/run.ts [--bridges 10] [--messages 300] [--rate 20] [--burst 1000] [--records 100]
 */
import { parseArgs } from 'node:util'
import { createEnvelope, encodeEnvelope, encodeRecord, generateIdentity } from '@vivim/shared'
import { gossipMessageId } from '../../node-bridge/src/topic-ids.ts'
import { signedRecord } from '../../node-bridge/test/helpers.ts'
import { guardRun, progress } from '../docs/run-environment.ts'
import { count, ms, summarize } from '../docs/stats.ts'
import { startMesh, stopMesh } from './mesh.ts'

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
const author = generateIdentity()
const mesh = await startMesh(BRIDGES, TOPIC)
const sentAt = new Map<string, { at: number; from: number }>()
const latencies: number[] = []
const deliveries = new Map<string, number>()
let lastDeliveryAt = 0
mesh.forEach((bridge, index) => {
  bridge.node.services.pubsub.addEventListener('message', (event) => {
    const now = performance.now()
    const id = Buffer.from(gossipMessageId(event.detail)).toString('hex')
    const sent = sentAt.get(id)
    if (!sent || sent.from === index) return
    latencies.push(now - sent.at)
    lastDeliveryAt = now
    deliveries.set(id, (deliveries.get(id) ?? 0) + 1)
  })
})

async function publish(from: number, text: string): Promise<string> {
  const envelope = createEnvelope(author, { topic: TOPIC, payload: new TextEncoder().encode(text) })
  const bytes = encodeEnvelope(envelope)
  const id = Buffer.from(gossipMessageId({ data: bytes })).toString('hex')
  sentAt.set(id, { at: performance.now(), from })
  await mesh[from]?.node.services.pubsub.publish(TOPIC, bytes)
  return id
}

async function waitDelivered(ids: string[], guardMs: number): Promise<number> {
  const want = BRIDGES - 1
  const end = Date.now() + guardMs
  while (Date.now() < end && !ids.every((id) => (deliveries.get(id) ?? 0) >= want))
    await new Promise((r) => setTimeout(r, 20))
  return ids.filter((id) => (deliveries.get(id) ?? 0) >= want).length
}

// Steady rate, rotating publishers: delivery latency.
progress(`gossipsub: ${MESSAGES} messages at ${RATE}/s`)
const steady: string[] = []
const start = performance.now()
for (let i = 0; i < MESSAGES; i++) {
  const due = start + (i * 1000) / RATE
  const wait = due - performance.now()
  if (wait > 0) await new Promise((r) => setTimeout(r, wait))
  steady.push(await publish(i % BRIDGES, `steady ${i}`))
}
const steadyComplete = await waitDelivered(steady, 30_000)
const steadyDeliveries = steady.reduce((sum, id) => sum + (deliveries.get(id) ?? 0), 0)
const steadyLatency = summarize(latencies)

// Burst from one bridge: messages per second delivered to every other bridge.
progress(`gossipsub: burst of ${BURST} from one bridge`)
latencies.length = 0
const burstStart = performance.now()
const burst: string[] = []
for (let i = 0; i < BURST; i++) burst.push(await publish(0, `burst ${i}`))
const burstComplete = await waitDelivered(burst, 60_000)
// Until the last delivery, not the end of the wait: a message that never arrives must not dilute the rate.
const burstSeconds = (lastDeliveryAt - burstStart) / 1000
const burstLatency = summarize(latencies)

// DHT: put from one bridge, get from another.
progress(`dht: ${RECORDS} puts and gets`)
const puts: number[] = []
const gets: number[] = []
let found = 0
for (let i = 0; i < RECORDS; i++) {
  const { key, record } = signedRecord(generateIdentity(), `record ${i}`)
  const putter = mesh[i % BRIDGES]
  const getter = mesh[(i + 1 + (i % (BRIDGES - 1))) % BRIDGES]
  let t = performance.now()
  await putter?.records.put(encodeRecord(record))
  puts.push(performance.now() - t)
  t = performance.now()
  if ((await getter?.records.get(key)) != null) found++
  gets.push(performance.now() - t)
}
const put = summarize(puts)
const get = summarize(gets)

await stopMesh(mesh)
const row = (what: string, c: string, p50: string, p99: string, rate: string) =>
  `| ${what} | ${c} | ${p50} | ${p99} | ${rate} |`
console.log(`Mesh benchmark: ${BRIDGES} bridges on 127.0.0.1 in one Node ${process.version} process\n`)
console.log('| measure | delivered / done | p50 ms | p99 ms | per second |')
console.log('| --- | --- | --- | --- | --- |')
console.log(
  row(
    `Gossipsub, ${RATE}/s, rotating publishers`,
    `${count(steadyComplete)}/${count(MESSAGES)} to all ${BRIDGES - 1} (${count(steadyDeliveries)}/${count(MESSAGES * (BRIDGES - 1))} deliveries)`,
    ms(steadyLatency.p50),
    ms(steadyLatency.p99),
    `${count(RATE * (BRIDGES - 1))} deliveries`,
  ),
)
console.log(
  row(
    'Gossipsub, burst from one bridge (latency = queueing)',
    `${count(burstComplete)}/${count(BURST)} to all ${BRIDGES - 1}`,
    ms(burstLatency.p50),
    ms(burstLatency.p99),
    `${count(burstComplete / burstSeconds)} messages (${count((burstComplete * (BRIDGES - 1)) / burstSeconds)} deliveries)`,
  ),
)
console.log(
  row(
    'DHT put (record mirror: check, put, provide)',
    `${count(puts.length)}`,
    ms(put.p50),
    ms(put.p99),
    count(1000 / (put.p50 || 1)),
  ),
)
console.log(
  row(
    'DHT get from another bridge',
    `${count(found)}/${count(gets.length)} found`,
    ms(get.p50),
    ms(get.p99),
    count(1000 / (get.p50 || 1)),
  ),
)
process.exit(steadyComplete === MESSAGES && burstComplete === BURST && found === RECORDS ? 0 : 1)
