/**
 * One bridge of the mesh benchmark, in its own worker thread (its own event
 * loop, so ten bridges use both cores as ten processes would). Commands
 * come from the main thread; what happens goes back with wall-clock times
 * (`performance.timeOrigin + performance.now()`, comparable across threads).
 */
import { parentPort, workerData } from 'node:worker_threads'
import { createEnvelope, encodeEnvelope, generateIdentity } from '@vivim/shared'
import { createBridge } from '../../node-bridge/src/bridge.ts'
import { gossipMessageId } from '../../node-bridge/src/topic-ids.ts'

export type ThreadCommand =
  | { type: 'publish'; text: string }
  | { type: 'put'; bytes: Uint8Array }
  | { type: 'get'; key: string }
  | { type: 'stop' }

export type ThreadEvent =
  | { type: 'ready'; addr: string; peers: number; subscribers: number }
  | { type: 'state'; peers: number; subscribers: number }
  | { type: 'sent'; id: string; at: number }
  | { type: 'got'; id: string; at: number }
  | { type: 'put'; ms: number }
  | { type: 'got-record'; ms: number; found: boolean }
  | { type: 'stopped'; connectionsClosed: number; rejected: number }

const { topic, bootstrap } = workerData as { topic: string; bootstrap: string | null }
const port = parentPort as NonNullable<typeof parentPort>
const now = () => performance.timeOrigin + performance.now()
const post = (event: ThreadEvent) => port.postMessage(event)
const idOf = (data: Uint8Array) => Buffer.from(gossipMessageId({ data })).toString('hex')

const bridge = await createBridge({
  listen: ['/ip4/127.0.0.1/tcp/0'],
  bootstrap: bootstrap === null ? [] : [bootstrap],
  mdns: false,
  dataDir: null,
  edgeUrl: null,
  topics: [topic],
  // Every bridge dials from 127.0.0.1: one host, as far as the inbound rate limit can tell.
  inboundConnectionsPerHost: 1_000,
})
const author = generateIdentity()
const pubsub = bridge.node.services.pubsub
pubsub.addEventListener('message', (event) => post({ type: 'got', id: idOf(event.detail.data), at: now() }))
const state = () => ({ peers: bridge.node.getPeers().length, subscribers: pubsub.getSubscribers(topic).length })
// Connections that closed during the run: a bridge starved of CPU misses pings and drops peers.
let connectionsClosed = 0
bridge.node.addEventListener('connection:close', () => connectionsClosed++)
const timer = setInterval(() => post({ type: 'state', ...state() }), 250)
post({ type: 'ready', addr: bridge.multiaddrs()[0]?.toString() ?? '', ...state() })

port.on('message', async (command: ThreadCommand) => {
  if (command.type === 'publish') {
    const bytes = encodeEnvelope(createEnvelope(author, { topic, payload: new TextEncoder().encode(command.text) }))
    post({ type: 'sent', id: idOf(bytes), at: now() })
    await pubsub.publish(topic, bytes)
  } else if (command.type === 'put') {
    const start = now()
    await bridge.records.put(command.bytes)
    post({ type: 'put', ms: now() - start })
  } else if (command.type === 'get') {
    const start = now()
    const found = (await bridge.records.get(command.key)) !== null
    post({ type: 'got-record', ms: now() - start, found })
  } else if (command.type === 'stop') {
    clearInterval(timer)
    const rejected = Number((await bridge.metrics.messagesRejected.get()).values[0]?.value ?? 0)
    await bridge.stop()
    post({ type: 'stopped', connectionsClosed, rejected })
    port.close()
  }
})
