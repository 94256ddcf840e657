/**
 * The browser peer's libp2p node: WebSockets and WebRTC-direct to reach
 * bridges, a circuit-relay-v2 client to be reachable through them, WebRTC
 * between browsers, Noise and Yamux, identify, Gossipsub, and Kademlia in
 * client mode on the mesh's own DHT (`/vivim/kad/1.0.0`).
 *
 * It listens on `/p2p-circuit` (a reservation on each bridge it dials that
 * runs a relay) and on `/webrtc` (so a peer that reaches it through a relay
 * can upgrade to a direct WebRTC connection). A browser cannot listen on
 * anything else.
 *
 * @example
 * ```ts
 * const node = await createMeshNode({ bridges: ['/dns4/bridge.example/tcp/443/wss/p2p/12D3Koo…'] })
 * await node.start()
 * ```
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { type GossipSub, gossipsub } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import type { PrivateKey } from '@libp2p/interface'
import { type KadDHT, kadDHT, passthroughMapper, removePrivateAddressesMapper } from '@libp2p/kad-dht'
import { ping } from '@libp2p/ping'
import { type WebRTCTransportInit, webRTC, webRTCDirect } from '@libp2p/webrtc'
import { webSockets } from '@libp2p/websockets'
import { Limits, VIVIM_DHT_PROTOCOL } from '@vivim/shared'
import { gossipMessageIdAsync } from '@vivim/shared/mesh'
import { createLibp2p, type Libp2p } from 'libp2p'

/** What an app chooses for its browser peer. */
export interface MeshPeerInit {
  /** Bridges to dial, each a multiaddr ending in `/p2p/<peer id>` (`/wss`, `/ws` or `/webrtc-direct`). */
  bridges: string[]
  /**
   * Upgrade relayed connections to WebRTC (default `true`). Off, peers talk through the bridge's
   * relay only, within its limits: for networks where WebRTC is known to fail.
   */
  webRTC?: boolean
  /** STUN and TURN servers for WebRTC, as for `RTCPeerConnection`. */
  rtcConfiguration?: WebRTCTransportInit['rtcConfiguration']
  /**
   * Dial and accept private and loopback addresses (a LAN, or one machine in development). Off by
   * default, as in libp2p: a page should not probe the user's network.
   */
  allowPrivateAddresses?: boolean
  /** The libp2p key; a new one each session by default (the peer id is not an identity: DIDs sign). */
  privateKey?: PrivateKey
}

/** The services the browser peer runs. */
export type MeshServices = {
  identify: ReturnType<ReturnType<typeof identify>>
  ping: ReturnType<ReturnType<typeof ping>>
  dht: KadDHT
  pubsub: GossipSub
}

/** The browser peer's libp2p node. */
export type MeshLibp2p = Libp2p<MeshServices>

/** Creates (not starts) the browser peer's node. */
export async function createMeshNode(init: MeshPeerInit): Promise<MeshLibp2p> {
  const open = init.allowPrivateAddresses === true
  return createLibp2p({
    ...(init.privateKey ? { privateKey: init.privateKey } : {}),
    addresses: { listen: init.webRTC === false ? ['/p2p-circuit'] : ['/p2p-circuit', '/webrtc'] },
    transports: [
      webSockets(),
      webRTCDirect(),
      circuitRelayTransport(),
      webRTC(init.rtcConfiguration ? { rtcConfiguration: init.rtcConfiguration } : {}),
    ],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    // libp2p's default gater refuses private addresses in browsers; a LAN or development mesh needs them.
    ...(open ? { connectionGater: { denyDialMultiaddr: () => false } } : {}),
    services: {
      identify: identify(),
      // Kademlia checks its routing table's peers with it.
      ping: ping(),
      dht: kadDHT({
        protocol: VIVIM_DHT_PROTOCOL,
        // A browser cannot be dialled directly: it asks the bridges and answers nobody's queries.
        clientMode: true,
        peerInfoMapper: open ? passthroughMapper : removePrivateAddressesMapper,
      }),
      pubsub: gossipsub({
        // The mesh names a message by the SHA-256 of its bytes, as the bridges do (`@vivim/shared/mesh`).
        msgIdFn: gossipMessageIdAsync,
        maxInboundDataLength: Limits.maxTopicEnvelopeBytes,
        allowPublishToZeroTopicPeers: true,
        ignoreDuplicatePublishError: true,
        // A relayed connection is limited; when the WebRTC upgrade fails it is the only path between two browsers.
        runOnLimitedConnection: true,
      }),
    },
  })
}
