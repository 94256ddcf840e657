/**
 * The bridge's libp2p node: TCP and WebSockets, Noise and Yamux, identify and
 * ping, a Kademlia DHT of its own (`/vivim/kad/1.0.0`, server mode) whose
 * `/vivim/` records follow the edge's rules, Gossipsub, bootstrap and mDNS
 * discovery, a circuit-relay-v2 server for peers behind NAT or in browsers,
 * and connection limits.
 *
 * Noise and Yamux rather than the seed's TLS and mplex: mplex is deprecated
 * in libp2p (no flow control, so one slow stream stalls a connection), and
 * Noise is the one encrypter every libp2p implementation, browsers included,
 * speaks; TLS would add nothing for the peers this mesh serves.
 *
 * @example
 * ```ts
 * const storage = await openStorage({ dataDir: null })
 * const node = await createBridgeNode({ listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [], mdns: false }, storage)
 * await node.services.dht.put(dhtKey(record.key), encodeRecord(record))
 * node.getMultiaddrs()
 * ```
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { bootstrap } from '@libp2p/bootstrap'
import { circuitRelayServer } from '@libp2p/circuit-relay-v2'
import { type GossipSub, gossipsub } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import { type KadDHT, kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import { mdns } from '@libp2p/mdns'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { webSockets } from '@libp2p/websockets'
import { Limits, VIVIM_DHT_NAMESPACE, VIVIM_DHT_PROTOCOL } from '@vivim/shared'
import { createLibp2p, type Libp2p, type Libp2pOptions } from 'libp2p'
import { selectVivimRecord, validateVivimRecord } from './dht-records.ts'
import type { BridgeStorage } from './storage.ts'
import { gossipFastMessageId, gossipMessageId } from './topic-ids.ts'

/** How the libp2p node listens and finds peers. */
export interface BridgeNodeInit {
  /** Multiaddrs to listen on, e.g. `/ip4/0.0.0.0/tcp/4001` and `/ip4/0.0.0.0/tcp/4002/ws`. */
  listen: string[]
  /** Multiaddrs this node tells peers to dial, when they differ from what it listens on (NAT, a proxy). */
  announce?: string[]
  /** Multiaddrs (with `/p2p/<peer id>`) of peers to join the mesh through. */
  bootstrap: string[]
  /** Find peers on the local network by multicast DNS. */
  mdns: boolean
  /** Most open connections; the connection manager prunes the least valuable past it. */
  maxConnections?: number
  /**
   * Inbound connections one host may open per second (libp2p's default is 5). Peers behind one
   * NAT, or many bridges on one machine, share an address and need more.
   */
  inboundConnectionsPerHost?: number
  /** Most circuit-relay reservations this node holds for other peers. */
  maxRelayReservations?: number
}

/** The libp2p services a bridge runs. */
export type BridgeServices = {
  identify: ReturnType<ReturnType<typeof identify>>
  ping: ReturnType<ReturnType<typeof ping>>
  dht: KadDHT
  pubsub: GossipSub
  relay: ReturnType<ReturnType<typeof circuitRelayServer>>
}

/** The bridge's libp2p node. */
export type BridgeLibp2p = Libp2p<BridgeServices>

export const DEFAULT_MAX_CONNECTIONS = 200
/** Bridges answer each other's mDNS queries only, not every libp2p node on the LAN. */
export const MDNS_SERVICE_TAG = '_vivim-bridge._udp.local'

/** Creates (not starts) the libp2p node: TCP, WebSockets, Noise, Yamux, Kademlia with the `/vivim/` validator, Gossipsub, discovery and circuit relay. */
export async function createBridgeNode(init: BridgeNodeInit, storage: BridgeStorage): Promise<BridgeLibp2p> {
  const peerDiscovery: NonNullable<Libp2pOptions['peerDiscovery']> = []
  if (init.bootstrap.length > 0) peerDiscovery.push(bootstrap({ list: init.bootstrap }))
  if (init.mdns) peerDiscovery.push(mdns({ serviceTag: MDNS_SERVICE_TAG }))
  const node = await createLibp2p({
    privateKey: storage.privateKey,
    datastore: storage.datastore,
    addresses: { listen: init.listen, ...(init.announce?.length ? { announce: init.announce } : {}) },
    transports: [tcp(), webSockets()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    peerDiscovery,
    connectionManager: {
      maxConnections: init.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
      ...(init.inboundConnectionsPerHost !== undefined
        ? { inboundConnectionThreshold: init.inboundConnectionsPerHost }
        : {}),
    },
    services: {
      identify: identify(),
      ping: ping(),
      dht: kadDHT({
        protocol: VIVIM_DHT_PROTOCOL,
        clientMode: false,
        // A VIVIM mesh may live on one LAN or one machine: private addresses are reachable there.
        peerInfoMapper: passthroughMapper,
        validators: { [VIVIM_DHT_NAMESPACE]: validateVivimRecord },
        selectors: { [VIVIM_DHT_NAMESPACE]: selectVivimRecord },
      }),
      pubsub: gossipsub({
        // Named by their bytes, not by publisher and sequence number: the copy of an envelope that
        // another bridge republishes has the same id and is dropped (seen cache).
        msgIdFn: gossipMessageId,
        // Copies of a message already accepted are dropped before libp2p's signature is verified again.
        fastMsgIdFn: gossipFastMessageId,
        maxInboundDataLength: Limits.maxTopicEnvelopeBytes,
        allowPublishToZeroTopicPeers: true,
        ignoreDuplicatePublishError: true,
        // A bridge is a well-connected node: peer exchange helps peers behind it find each other.
        doPX: true,
      }),
      relay: circuitRelayServer({ reservations: { maxReservations: init.maxRelayReservations ?? 128 } }),
    },
  })
  // The DHT serves queries at once: a bridge is meant to be dialable (on a LAN, without a public address too).
  await node.services.dht.setMode('server')
  return node
}
