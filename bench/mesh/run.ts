/**
 * Benchmark of the libp2p mesh (`npm run bench:mesh`): ten bridges on
 * loopback, each in its own worker thread. Gossipsub: signed envelopes
 * published at a steady rate from rotating bridges, each timed from publish
 * to delivery at every other bridge (p50/p99), then a burst from one bridge
 * for messages per second delivered to all. DHT: records put through the
 * record mirror on one bridge and got from another (p50/p99 of each).
 * Then the anchors, in the same run, each with the same number of nodes, the
 * same topology and the same two Gossipsub phases: plain Gossipsub on the
 * bridge's libp2p node and Gossipsub options with no envelope validator, and
 * plain Gossipsub with libp2p's defaults on the same modules
 * (`default-node.ts`); `--no-anchor` skips them. Progress on stderr, a Markdown table on stdout; exits 1 if anything
 * was not delivered or not found.
 *
 *   node bench/mesh/run.ts [--bridges 10] [--messages 300] [--rate 20] [--burst 1000] [--records 100] [--no-anchor]
 */
import { encodeRecord, generateIdentity } from '@vivim/shared'
import { signedRecord } from '../../node-bridge/test/helpers.ts'
import { flag, int, parseOptions } from '../lib/options.ts'
import { count, markdownTable, ms } from '../lib/report-table.ts'
import { guardRun, progress } from '../lib/run-environment.ts'
import { summarize } from '../lib/stats.ts'
import type { ThreadEvent } from './bridge-thread.ts'
import { allDelivered, burstCostRow, type GossipResult, gossipRows, runGossip } from './gossip.ts'
import { type Mesh, startMesh } from './mesh.ts'

const values = parseOptions('node bench/mesh/run.ts [flags]   (npm run bench:mesh -- [flags])', {
  bridges: int(10, 2, 100, 'nodes, one worker thread each'),
  messages: int(300, 1, 100_000, 'envelopes at the steady rate'),
  rate: int(20, 1, 10_000, 'steady envelopes/s, from rotating publishers'),
  burst: int(1000, 1, 100_000, 'envelopes of the burst from one node'),
  records: int(100, 0, 100_000, 'DHT records put on one bridge, got from another'),
  noAnchor: flag('skip the plain-Gossipsub anchors'),
})
const { bridges: BRIDGES, messages: MESSAGES, rate: RATE, burst: BURST, records: RECORDS } = values
guardRun(20 * 60_000)

/** DHT: put through the record mirror on one bridge, got from another. */
async function runDht(mesh: Mesh) {
  progress(`dht: ${RECORDS} puts and gets`)
  const { bridges } = mesh
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
  return { puts, gets, found }
}

const bridgeMesh = await startMesh(BRIDGES, `public:bench:mesh-${Date.now()}`, 'bridge')
const bridgeGossip = await runGossip(bridgeMesh, MESSAGES, RATE, BURST)
const dht = await runDht(bridgeMesh)
const bridgeCounts = await bridgeMesh.stop()
progress(`bridges: connections closed ${bridgeCounts.connectionsClosed}, messages rejected ${bridgeCounts.rejected}`)

const ANCHORS = [
  { kind: 'plain', label: 'Plain Gossipsub, bridge node options (anchor)' },
  { kind: 'default', label: 'Plain Gossipsub, libp2p defaults (anchor)' },
] as const
const anchors: { label: string; gossip: GossipResult; closed: number }[] = []
for (const { kind, label } of values.noAnchor ? [] : ANCHORS) {
  const anchorMesh = await startMesh(BRIDGES, `public:bench:mesh-${kind}-${Date.now()}`, kind)
  const gossip = await runGossip(anchorMesh, MESSAGES, RATE, BURST)
  const closed = (await anchorMesh.stop()).connectionsClosed
  progress(`${label}: connections closed ${closed}`)
  anchors.push({ label, gossip, closed })
}

const put = summarize(dht.puts)
const get = summarize(dht.gets)
console.log(`Mesh benchmark: ${BRIDGES} nodes on 127.0.0.1, one worker thread each, Node ${process.version}\n`)
const measures = [
  ...gossipRows('Bridges', bridgeGossip),
  ...anchors.flatMap((a) => gossipRows(a.label, a.gossip)),
  [
    'DHT put (record mirror: check, put, provide)',
    count(dht.puts.length),
    ms(put.p50),
    ms(put.p99),
    count(1000 / (put.p50 || 1)),
  ],
  [
    'DHT get from another bridge',
    `${count(dht.found)}/${count(dht.gets.length)} found`,
    ms(get.p50),
    ms(get.p99),
    count(1000 / (get.p50 || 1)),
  ],
]
console.log(markdownTable(['measure', 'delivered / done', 'p50 ms', 'p99 ms', 'per second'], measures, 'lllll'))
console.log(
  `\nThe burst of ${count(BURST)}: until its last delivery; CPU of the whole benchmark process (every node thread) per message.\n`,
)
const costs = [burstCostRow('Bridges', bridgeGossip), ...anchors.map((a) => burstCostRow(a.label, a.gossip))]
const costHeader = ['nodes', 'burst took', 'CPU per message', 'cores busy', 'connections closed during it']
console.log(markdownTable(costHeader, costs, 'lllll'))
console.log(
  `\nConnections closed during the run: bridges ${count(bridgeCounts.connectionsClosed)}` +
    anchors.map((a) => `, ${a.label} ${count(a.closed)}`).join('') +
    '.',
)
const ok = allDelivered(bridgeGossip) && anchors.every((a) => allDelivered(a.gossip)) && dht.found === RECORDS
process.exit(ok ? 0 : 1)
