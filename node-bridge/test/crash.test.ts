/**
 * Killed, not stopped: `vivim-bridge` (a child process with a data
 * directory) is killed with SIGKILL while it forwards a topic under load,
 * and started again on the same directory. It comes back with its peer id;
 * every message published at the edge, before, during and after the
 * outage, reaches a plain Gossipsub peer, none lost (replays are collapsed
 * by message id, as any VIVIM reader does); and what it had journaled from
 * the mesh for an unreachable edge reaches the edge once it is up.
 */
import { rmSync } from 'node:fs'
import type { Message } from '@libp2p/gossipsub'
import { createEnvelope, decodeEnvelope, encodeEnvelope, generateIdentity, messageId } from '@vivim/shared'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort, type RunningEdge, startEdge } from '../../scripts/test-edge.ts'
import { type CliRun, readMetric, runCli } from './cli-process.ts'
import { EdgeSubscriber } from './edge-client.ts'
import { EdgeLoad, seededInts } from './edge-load.ts'
import { tempDir, waitFor } from './helpers.ts'
import { createPlainNode } from './plain-node.ts'

const SEEDS = [5, 13]
/** Messages published at the edge while the bridge is down, and again after it is back. */
const WHILE_DOWN = 40
const AFTER_RESTART = 40

type PlainNode = Awaited<ReturnType<typeof createPlainNode>>

/** The arguments of a bridge on loopback with a data directory, joining the mesh through `peer`. */
function bridgeArgs(init: { peer: PlainNode; edgeUrl: string; topic: string; dataDir: string; metrics?: number }) {
  return [
    ...['--listen', '/ip4/127.0.0.1/tcp/0', '--bootstrap', String(init.peer.getMultiaddrs()[0])],
    ...['--edge', init.edgeUrl, '--topic', init.topic, '--data-dir', init.dataDir, '--no-mdns'],
    ...['--metrics', init.metrics === undefined ? 'off' : `127.0.0.1:${init.metrics}`, '--log-format', 'json'],
  ]
}

/** The peer id a bridge logged on start. */
async function started(run: CliRun): Promise<string> {
  await waitFor(
    'the bridge started',
    () => run.child.exitCode !== null || run.lines.some((l) => l.msg === 'bridge started'),
  )
  const line = run.lines.find((l) => l.msg === 'bridge started')
  if (!line) throw new Error(`the bridge exited: ${JSON.stringify(run.lines)}`)
  return line.peerId as string
}

async function kill(run: CliRun): Promise<void> {
  if (run.child.exitCode !== null || run.child.signalCode !== null) return
  run.child.kill('SIGKILL')
  await run.exited
}

describe('a bridge killed under Gossipsub load', () => {
  const runs: CliRun[] = []
  const peers: PlainNode[] = []
  const dirs: string[] = []
  const edges: RunningEdge[] = []
  let edge: RunningEdge

  beforeAll(async () => {
    edge = await startEdge()
    edges.push(edge)
  }, 180_000)
  afterAll(async () => {
    await Promise.all(runs.map(kill))
    await Promise.all(peers.map((p) => p.stop()))
    await Promise.all(edges.map((e) => e.stop()))
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  })

  for (const seed of SEEDS) {
    it(`comes back with its peer id and the mesh gets every edge message (seed ${seed})`, async () => {
      const topic = `public:bridge:crash-${seed}`
      const dataDir = tempDir()
      dirs.push(dataDir)
      const plain = await createPlainNode()
      peers.push(plain)
      const copies = new Map<string, number>()
      plain.services.pubsub.addEventListener('message', (event: CustomEvent<Message>) => {
        if (event.detail.topic !== topic) return
        const id = messageId(decodeEnvelope(event.detail.data))
        copies.set(id, (copies.get(id) ?? 0) + 1)
      })
      plain.services.pubsub.subscribe(topic)
      const args = bridgeArgs({ peer: plain, edgeUrl: edge.url, topic, dataDir })

      const first = runCli(args)
      runs.push(first)
      const peerId = await started(first)
      // A first start subscribes live: the load begins once the bridge's socket to the room is open.
      await waitFor('the bridge subscribed at the edge', () =>
        first.lines.some((l) => l.msg === 'edge socket open' && l.socket === `topic:${topic}`),
      )
      const load = new EdgeLoad(edge.url, topic, seed)
      // The path works before the load: the first message reaches the mesh peer.
      await load.publishOne()
      await waitFor('the first message reached the mesh peer', () => copies.size > 0)
      load.start()
      const killAt = load.count + 20 + seededInts(seed)(40)
      await waitFor('load before the kill', () => load.count >= killAt)
      await kill(first)
      const atDeath = load.count
      await waitFor('load while the bridge is down', () => load.count >= atDeath + WHILE_DOWN)

      const second = runCli(args)
      runs.push(second)
      expect(await started(second)).toBe(peerId)
      const atRestart = load.count
      await waitFor('load after the restart', () => load.count >= atRestart + AFTER_RESTART)
      await load.stop()

      await waitFor('every message published at the edge reached the mesh peer', () =>
        load.ids.every((id) => copies.has(id)),
      )
      // Exactly the edge's messages, each once by message id: none lost across the kill, nothing else.
      expect([...copies.keys()].sort()).toEqual([...load.ids].sort())
      const replayed = [...copies.values()].reduce((a, b) => a + b, 0) - copies.size
      console.log(`seed ${seed}: ${load.count} published, killed at ${atDeath}, ${replayed} copies replayed`)
      second.child.kill('SIGTERM')
      expect(await second.exited).toBe(0)
    }, 180_000)
  }

  it('what it journaled from the mesh for an unreachable edge reaches the edge after a SIGKILL', async () => {
    const topic = 'public:bridge:crash-outbox'
    const dataDir = tempDir()
    dirs.push(dataDir)
    const plain = await createPlainNode()
    peers.push(plain)
    // Nothing listens here yet: the edge starts on this port only after the bridge is killed.
    const port = await freePort()
    const edgeUrl = `http://127.0.0.1:${port}`
    const metrics = await freePort()
    const first = runCli(bridgeArgs({ peer: plain, edgeUrl, topic, dataDir, metrics }))
    runs.push(first)
    const peerId = await started(first)
    const router = plain.services.pubsub as unknown as { streamsOutbound: ReadonlyMap<string, unknown> }
    await waitFor('the plain peer can send to the bridge', () =>
      plain.services.pubsub
        .getSubscribers(topic)
        .some((id) => id.toString() === peerId && router.streamsOutbound.has(peerId)),
    )
    const author = generateIdentity()
    const sent: string[] = []
    for (let i = 0; i < 30; i++) {
      const envelope = createEnvelope(author, { topic, payload: new TextEncoder().encode(`from the mesh ${i}`) })
      await plain.services.pubsub.publish(topic, encodeEnvelope(envelope))
      sent.push(messageId(envelope))
    }
    const metricsUrl = `http://127.0.0.1:${metrics}/metrics`
    await waitFor(
      'the bridge journaled them all',
      async () => (await readMetric(metricsUrl, 'vivim_bridge_edge_journaled')) === sent.length,
    )
    await kill(first)

    const late = await startEdge({ port })
    edges.push(late)
    const again = await freePort()
    const second = runCli(bridgeArgs({ peer: plain, edgeUrl, topic, dataDir, metrics: again }))
    runs.push(second)
    expect(await started(second)).toBe(peerId)
    const subscriber = await EdgeSubscriber.connect(late.url, topic, { cursor: 0 })
    try {
      await waitFor('the edge has every journaled message', () => sent.every((id) => subscriber.count(id) > 0))
      expect(sent.map((id) => subscriber.count(id))).toEqual(sent.map(() => 1))
      // Answered `ok`, so forgotten: nothing is sent again on the next start.
      await waitFor(
        'the journal emptied',
        async () => (await readMetric(`http://127.0.0.1:${again}/metrics`, 'vivim_bridge_edge_journaled')) === 0,
      )
    } finally {
      subscriber.close()
    }
    second.child.kill('SIGTERM')
    expect(await second.exited).toBe(0)
  }, 180_000)
})
