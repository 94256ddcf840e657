/**
 * One node of the mesh benchmark, in its own worker thread (its own event
 * loop, so ten nodes use both cores as ten processes would). Commands come
 * from the main thread; what happens goes back with wall-clock times
 * (`performance.timeOrigin + performance.now()`, comparable across threads).
 *
 * A node is a VIVIM bridge (`kind: 'bridge'`: `createBridge`, whose topic
 * validator checks every envelope's author signature), or the anchor
 * (`kind: 'plain'`): the same libp2p node (`createBridgeNode`, the same
 * transports, encrypter, muxer, DHT and Gossipsub options) subscribed to the
 * topic with no validator, so the difference between the two is what the
 * bridge adds to plain Gossipsub; or (`kind: 'default'`) a node with the same
 * modules and Gossipsub's default options (`default-node.ts`).
 */
import { parentPort, workerData } from 'node:worker_threads'
import { createEnvelope, encodeEnvelope, generateIdentity } from '@vivim/shared'
import { createBridge } from '../../node-bridge/src/bridge.ts'
import { type BridgeNodeInit, createBridgeNode } from '../../node-bridge/src/node.ts'
import { openStorage } from '../../node-bridge/src/storage.ts'
import { gossipMessageId } from '../../node-bridge/src/topic-ids.ts'
import { now } from '../lib/worker-pool.ts'
import { createDefaultGossipsubNode } from './default-node.ts'

export type NodeKind = 'bridge' | 'plain' | 'default'

export type ThreadCommand =
  | { type: 'publish'; text: string }
  /** Signs `count` envelopes now, published later by `burst`: the burst then measures the mesh, not the author. */
  | { type: 'prepare'; count: number }
  | { type: 'burst' }
  | { type: 'put'; bytes: Uint8Array }
  | { type: 'get'; key: string }
  | { type: 'stop' }

export type ThreadEvent =
  | { type: 'ready'; addr: string; peers: number; subscribers: number }
  | { type: 'state'; peers: number; subscribers: number; connectionsClosed: number }
  | { type: 'prepared'; count: number }
  | { type: 'sent'; id: string; at: number }
  | { type: 'got'; id: string; at: number }
  | { type: 'put'; ms: number }
  | { type: 'got-record'; ms: number; found: boolean }
  | { type: 'stopped'; connectionsClosed: number; rejected: number }

const { topic, bootstrap, kind } = workerData as { topic: string; bootstrap: string | null; kind: NodeKind }
const port = parentPort as NonNullable<typeof parentPort>
const post = (event: ThreadEvent) => port.postMessage(event)
const idOf = (data: Uint8Array) => Buffer.from(gossipMessageId({ data })).toString('hex')

const nodeInit: BridgeNodeInit = {
  listen: ['/ip4/127.0.0.1/tcp/0'],
  bootstrap: bootstrap === null ? [] : [bootstrap],
  mdns: false,
  // Every node dials from 127.0.0.1: one host, as far as the inbound rate limit can tell.
  inboundConnectionsPerHost: 1_000,
}
const bridge =
  kind === 'bridge' ? await createBridge({ ...nodeInit, dataDir: null, edgeUrl: null, topics: [topic] }) : null
const storage = bridge?.storage ?? (await openStorage({ dataDir: null }))
const node =
  bridge?.node ??
  (kind === 'default' ? await createDefaultGossipsubNode(bootstrap) : await createBridgeNode(nodeInit, storage))
const pubsub = node.services.pubsub
if (bridge === null) {
  pubsub.subscribe(topic)
  // What a bridge does on discovery (bridge.ts): dial the peer, so the plain mesh is fully connected too.
  node.addEventListener('peer:discovery', (event) => {
    if (node.getConnections(event.detail.id).length === 0) node.dial(event.detail.id).catch(() => {})
  })
}

const author = generateIdentity()
const envelopeBytes = (text: string) =>
  encodeEnvelope(createEnvelope(author, { topic, payload: new TextEncoder().encode(text) }))
let prepared: Uint8Array[] = []

pubsub.addEventListener('message', (event) => post({ type: 'got', id: idOf(event.detail.data), at: now() }))
// Connections that closed during the run: a node starved of CPU misses pings and drops peers.
let connectionsClosed = 0
node.addEventListener('connection:close', () => connectionsClosed++)
const state = () => ({
  peers: node.getPeers().length,
  subscribers: pubsub.getSubscribers(topic).length,
  connectionsClosed,
})
const timer = setInterval(() => post({ type: 'state', ...state() }), 250)
post({ type: 'ready', addr: node.getMultiaddrs()[0]?.toString() ?? '', ...state() })

async function publish(bytes: Uint8Array): Promise<void> {
  post({ type: 'sent', id: idOf(bytes), at: now() })
  await pubsub.publish(topic, bytes)
}

port.on('message', async (command: ThreadCommand) => {
  if (command.type === 'publish') {
    await publish(envelopeBytes(command.text))
  } else if (command.type === 'prepare') {
    prepared = Array.from({ length: command.count }, (_, i) => envelopeBytes(`burst ${i}`))
    post({ type: 'prepared', count: prepared.length })
  } else if (command.type === 'burst') {
    const burst = prepared
    prepared = []
    await Promise.all(burst.map(publish))
  } else if (command.type === 'put' || command.type === 'get') {
    if (bridge === null) throw new Error(`a plain node has no record mirror (${command.type})`)
    const start = now()
    if (command.type === 'put') {
      await bridge.records.put(command.bytes)
      post({ type: 'put', ms: now() - start })
    } else {
      const found = (await bridge.records.get(command.key)) !== null
      post({ type: 'got-record', ms: now() - start, found })
    }
  } else if (command.type === 'stop') {
    clearInterval(timer)
    const rejected = bridge ? Number((await bridge.metrics.messagesRejected.get()).values[0]?.value ?? 0) : 0
    // Counted before stopping: stopping closes every connection, and those are not the run's.
    const closedInRun = connectionsClosed
    await (bridge ?? node).stop()
    if (bridge === null) await storage.close()
    post({ type: 'stopped', connectionsClosed: closedInRun, rejected })
    port.close()
  }
})
