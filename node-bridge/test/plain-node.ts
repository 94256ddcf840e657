/**
 * Libp2p nodes configured from the public packages alone, nothing of this
 * project's: what any libp2p 3 application would run to join the mesh, and
 * stand-ins for peers of other implementations or ages (only TLS, only
 * mplex) and for a browser that dials over WebRTC-direct.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { gossipsub } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { webRTCDirect } from '@libp2p/webrtc'
import { createLibp2p, type Libp2pOptions } from 'libp2p'

export function createPlainNode() {
  return createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify(), pubsub: gossipsub() },
  })
}

/** A plain node that can dial and be dialled through circuit relays, listening on `listen`. */
export function createRelayClient(listen: string[]) {
  return createLibp2p({
    addresses: { listen },
    transports: [tcp(), circuitRelayTransport()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify() },
  })
}

/** What a peer offers to secure and multiplex a connection, first preferred. */
export interface Offer {
  encrypters: NonNullable<Libp2pOptions['connectionEncrypters']>
  muxers: NonNullable<Libp2pOptions['streamMuxers']>
}

/** A plain TCP node that offers exactly `offer`, e.g. TLS and mplex alone as an older go or rust node does. */
export function createNodeOffering(offer: Offer) {
  return createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: offer.encrypters,
    streamMuxers: offer.muxers,
    services: { identify: identify(), ping: ping() },
  })
}

/** A node that reaches others over WebRTC-direct alone, as a browser with no WSS address to dial does. */
export function createWebRTCDirectDialer() {
  return createLibp2p({
    transports: [webRTCDirect()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify(), ping: ping() },
  })
}
