/**
 * The mesh under test: N bridges in this process on 127.0.0.1, in memory,
 * every one bootstrapping from the first, all joined to one topic; ready
 * once each has a full Gossipsub view of the topic and DHT peers.
 */
import { type BridgeInit, createBridge, type VivimBridge } from '../../node-bridge/src/bridge.ts'
import { progress } from '../docs/run-environment.ts'

export async function startMesh(size: number, topic: string): Promise<VivimBridge[]> {
  const base: BridgeInit = {
    listen: ['/ip4/127.0.0.1/tcp/0'],
    bootstrap: [],
    mdns: false,
    dataDir: null,
    edgeUrl: null,
    topics: [topic],
    // Every bridge dials from 127.0.0.1: one host, as far as the inbound rate limit can tell.
    inboundConnectionsPerHost: 1_000,
  }
  const first = await createBridge(base)
  const address = first.multiaddrs()[0]?.toString() as string
  const rest = await Promise.all(
    Array.from({ length: size - 1 }, () => createBridge({ ...base, bootstrap: [address] })),
  )
  const mesh = [first, ...rest]
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    const ready = mesh.every(
      (b) =>
        b.node.services.pubsub.getSubscribers(topic).length >= Math.min(size - 1, 4) && b.node.getPeers().length >= 2,
    )
    if (ready) break
    await new Promise((r) => setTimeout(r, 100))
  }
  // Let Gossipsub form its meshes (GRAFTs happen on heartbeats, one a second).
  await new Promise((r) => setTimeout(r, 3_000))
  progress(`mesh of ${size} up: ${mesh.map((b) => b.node.getPeers().length).join(',')} peers each`)
  return mesh
}

export async function stopMesh(mesh: VivimBridge[]): Promise<void> {
  await Promise.all(mesh.map((b) => b.stop()))
}
