/**
 * The second anchor of the mesh benchmark: a libp2p node with the bridge's
 * modules (TCP, WebSockets, Noise, Yamux, identify, ping, Kademlia,
 * Gossipsub, circuit-relay server: `node-bridge/src/node.ts`) but Gossipsub
 * with its defaults: messages named by publisher and sequence number, and
 * no fast id, so each duplicate copy has its libp2p signature verified
 * before it is dropped. What any libp2p application gets out of the box.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { bootstrap } from '@libp2p/bootstrap'
import { circuitRelayServer } from '@libp2p/circuit-relay-v2'
import { gossipsub } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import { kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { webSockets } from '@libp2p/websockets'
import { createLibp2p } from 'libp2p'

/** A started node listening on 127.0.0.1, bootstrapping from `bootstrapAddr` when given. */
export function createDefaultGossipsubNode(bootstrapAddr: string | null) {
  return createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp(), webSockets()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    peerDiscovery: bootstrapAddr === null ? [] : [bootstrap({ list: [bootstrapAddr] })],
    // Every node dials from 127.0.0.1: one host, as far as the inbound rate limit can tell (as for the bridges).
    connectionManager: { inboundConnectionThreshold: 1_000 },
    services: {
      identify: identify(),
      ping: ping(),
      dht: kadDHT({ clientMode: false, peerInfoMapper: passthroughMapper }),
      pubsub: gossipsub({ allowPublishToZeroTopicPeers: true }),
      relay: circuitRelayServer(),
    },
  })
}
