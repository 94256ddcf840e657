/**
 * The bridge's libp2p node: TCP, WebSockets and WebRTC-direct, Noise or TLS,
 * Yamux or mplex, identify and ping, a Kademlia DHT of its own
 * (`/vivim/kad/1.0.0`, server mode) whose `/vivim/` records follow the edge's
 * rules, Gossipsub, bootstrap and mDNS discovery, a circuit-relay-v2 server
 * for peers behind NAT or in browsers, and connection limits.
 *
 * Encrypters and muxers are listed in the order the bridge proposes them when
 * it dials; a dialer proposes and the listener takes the first it speaks.
 * Noise and Yamux come first: every libp2p implementation speaks them,
 * browsers included. TLS and mplex are there for peers that offer only those,
 * such as older go and rust nodes. mplex comes last because it has no flow
 * control: one slow stream stalls its whole connection.
 *
 * WebRTC-direct lets a browser dial a bridge that has no TLS certificate for
 * WSS: the bridge makes a self-signed one and puts its hash in the multiaddr
 * (`/certhash/…`). Without a keychain that certificate, and so the address,
 * changes on every start. Such a connection brings its own encryption (Noise
 * inside the WebRTC handshake) and streams (data channels).
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
import { circuitRelayServer, type ServerReservationStoreInit } from '@libp2p/circuit-relay-v2'
import { type GossipSub, gossipsub } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import { type KadDHT, kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import { mdns } from '@libp2p/mdns'
import { mplex } from '@libp2p/mplex'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { tls } from '@libp2p/tls'
import { webRTCDirect } from '@libp2p/webrtc'
import { webSockets } from '@libp2p/websockets'
import { ErrorCode, Limits, VIVIM_DHT_NAMESPACE, VIVIM_DHT_PROTOCOL, VivimError } from '@vivim/shared'
import { createLibp2p, type Libp2p, type Libp2pOptions } from 'libp2p'
import { selectVivimRecord, validateVivimRecord } from './dht-records.ts'
import type { BridgeStorage } from './storage.ts'
import { gossipFastMessageId, gossipMessageId } from './topic-ids.ts'

/**
 * Limits of each connection relayed through the bridge (circuit relay v2). A field left out keeps
 * libp2p's default (`DEFAULT_RELAY_LIMIT`).
 *
 * @example
 * ```ts
 * await createBridge({ ...init, relayLimit: { durationMs: 30 * 60_000, dataBytes: 64 * 1024 * 1024 } })
 * ```
 */
export interface RelayLimit {
  /** How long a relayed connection may stay open, ms (1 to `MAX_RELAY_DURATION_MS`). */
  durationMs?: number
  /** How many bytes a relayed connection may carry, both directions together. */
  dataBytes?: number
}

/** libp2p's own limit of a relayed connection: 2 minutes and 128 KiB. */
export const DEFAULT_RELAY_LIMIT = { durationMs: 120_000, dataBytes: 131_072 } as const
/** The longest duration limit: the relay enforces it with a timer, and Node's timers stop at 2^31 - 1 ms (about 24.8 days). */
export const MAX_RELAY_DURATION_MS = 2 ** 31 - 1

/** How the libp2p node listens and finds peers. */
export interface BridgeNodeInit {
  /**
   * Multiaddrs to listen on, e.g. `/ip4/0.0.0.0/tcp/4001`, `/ip4/0.0.0.0/tcp/4002/ws` and
   * `/ip4/0.0.0.0/udp/4003/webrtc-direct`.
   */
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
  /**
   * Limits of each relayed connection; libp2p's when absent, none when `null`. Over a limited
   * connection libp2p runs only the protocols that opt into it (identify, ping, the WebRTC
   * upgrade's signalling): a browser whose WebRTC upgrade fails keeps little else unless the limit
   * is raised or lifted.
   */
  relayLimit?: RelayLimit | null
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

/**
 * How the relay server applies `limit`: libp2p's defaults when it is absent, none when it is `null`.
 * Throws `bad_request` for a value the relay cannot enforce.
 *
 * @example
 * ```ts
 * relayLimitOptions({ dataBytes: 1_048_576 }) // { defaultDataLimit: 1048576n }
 * relayLimitOptions(null) // { applyDefaultLimit: false }
 * ```
 */
export function relayLimitOptions(limit: RelayLimit | null | undefined): ServerReservationStoreInit {
  if (limit === null) return { applyDefaultLimit: false }
  if (limit === undefined) return {}
  const { durationMs, dataBytes } = limit
  if (
    durationMs !== undefined &&
    !(Number.isSafeInteger(durationMs) && durationMs >= 1 && durationMs <= MAX_RELAY_DURATION_MS)
  ) {
    throw new VivimError(
      ErrorCode.BadRequest,
      `a relay duration limit is 1 to ${MAX_RELAY_DURATION_MS} ms, not ${durationMs}`,
    )
  }
  if (dataBytes !== undefined && !(Number.isSafeInteger(dataBytes) && dataBytes >= 1)) {
    throw new VivimError(ErrorCode.BadRequest, `a relay data limit is a positive number of bytes, not ${dataBytes}`)
  }
  return {
    ...(durationMs !== undefined ? { defaultDurationLimit: durationMs } : {}),
    ...(dataBytes !== undefined ? { defaultDataLimit: BigInt(dataBytes) } : {}),
  }
}

/**
 * Noise whose muxer, when the bridge dials, is the one the libp2p spec names (inlined muxer
 * negotiation: the first of the initiator's list that both ends speak). The Noise package, as
 * initiator, takes the responder's first instead: against a peer that lists mplex before Yamux the
 * two ends would run different muxers and the connection would die at once.
 */
function noiseDiallingBySpec(): ReturnType<typeof noise> {
  const create = noise()
  return (components) => {
    const inner = create(components)
    return {
      protocol: inner.protocol,
      secureInbound: (connection, options) => inner.secureInbound(connection, options),
      secureOutbound: async (connection, options) => {
        const secured = await inner.secureOutbound(connection, options)
        const theirs = (secured.remoteExtensions as { streamMuxers?: string[] } | undefined)?.streamMuxers ?? []
        if (secured.streamMuxer === undefined || theirs.length === 0) return secured
        const ours = components.upgrader.getStreamMuxers()
        const first = [...ours.keys()].find((protocol) => theirs.includes(protocol))
        const muxer = first === undefined ? undefined : ours.get(first)
        return muxer === undefined ? secured : { ...secured, streamMuxer: muxer }
      },
    }
  }
}

/** Creates (not starts) the libp2p node: its transports, encrypters and muxers, Kademlia with the `/vivim/` validator, Gossipsub, discovery and circuit relay. */
export async function createBridgeNode(init: BridgeNodeInit, storage: BridgeStorage): Promise<BridgeLibp2p> {
  const relayLimits = relayLimitOptions(init.relayLimit)
  const peerDiscovery: NonNullable<Libp2pOptions['peerDiscovery']> = []
  if (init.bootstrap.length > 0) peerDiscovery.push(bootstrap({ list: init.bootstrap }))
  if (init.mdns) peerDiscovery.push(mdns({ serviceTag: MDNS_SERVICE_TAG }))
  const node = await createLibp2p({
    privateKey: storage.privateKey,
    datastore: storage.datastore,
    addresses: { listen: init.listen, ...(init.announce?.length ? { announce: init.announce } : {}) },
    transports: [tcp(), webSockets(), webRTCDirect()],
    connectionEncrypters: [noiseDiallingBySpec(), tls()],
    streamMuxers: [yamux(), mplex()],
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
      relay: circuitRelayServer({
        reservations: { maxReservations: init.maxRelayReservations ?? 128, ...relayLimits },
      }),
    },
  })
  // The DHT serves queries at once: a bridge is meant to be dialable (on a LAN, without a public address too).
  await node.services.dht.setMode('server')
  return node
}
