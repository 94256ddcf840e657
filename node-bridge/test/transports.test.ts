/**
 * The bridge's transports, encrypters and muxers against peers built from
 * public packages: a peer that speaks only TLS and mplex, one that speaks
 * everything, one that dials over WebRTC-direct as a browser would, and
 * peers or bytes the bridge must refuse without stopping serving others.
 */
import { createSocket } from 'node:dgram'
import { connect } from 'node:net'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import type { ConnectionEncrypter, Libp2p, StreamMuxerFactory } from '@libp2p/interface'
import { mplex } from '@libp2p/mplex'
import { tls } from '@libp2p/tls'
import type { Multiaddr } from '@multiformats/multiaddr'
import { YjsSync } from '@vivim/shared/mesh'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { VivimBridge } from '../src/bridge.ts'
import { parseOptions } from '../src/options.ts'
import { startBridge, waitFor } from './helpers.ts'
import { createNodeOffering, createWebRTCDirectDialer } from './plain-node.ts'

const NOISE = '/noise'
const TLS = '/tls/1.0.0'
const YAMUX = '/yamux/1.0.0'
const MPLEX = '/mplex/6.7.0'

/** Encrypters and muxers no bridge speaks: negotiation of them must fail, so they are never used. */
const unknownEncrypter = (): ConnectionEncrypter => ({
  protocol: '/vivim-test/no-such-encrypter/1.0.0',
  secureInbound: () => Promise.reject(new Error('never negotiated')),
  secureOutbound: () => Promise.reject(new Error('never negotiated')),
})
const unknownMuxer = (): StreamMuxerFactory => ({
  protocol: '/vivim-test/no-such-muxer/1.0.0',
  createStreamMuxer: () => {
    throw new Error('never negotiated')
  },
})

function addressOf(bridge: VivimBridge, kind: 'tcp' | 'webrtc-direct'): Multiaddr {
  const found = bridge
    .multiaddrs()
    .find((a) =>
      kind === 'tcp'
        ? a.toString().includes('/tcp/') && !a.toString().includes('/ws')
        : a.toString().includes('/webrtc-direct/'),
    )
  if (!found) throw new Error(`the bridge listens on no ${kind} address`)
  return found
}

/** The host and port of an `/ip4/…/tcp|udp/…` address. */
function hostPort(address: Multiaddr): { host: string; port: number } {
  const [, host, port] = /^\/ip4\/([^/]+)\/(?:tcp|udp)\/(\d+)/.exec(address.toString()) ?? []
  if (host === undefined || port === undefined) throw new Error(`not an IPv4 address with a port: ${address}`)
  return { host, port: Number(port) }
}

/** Syncs a document with the bridge over `/vivim/yjs-sync/1.0.0` from `node`, and checks both sides merged. */
async function syncWithBridge(node: Libp2p, bridge: VivimBridge, address: Multiaddr, name: string): Promise<void> {
  const sync = new YjsSync({ node }, { docs: () => null })
  const doc = new Y.Doc()
  try {
    await sync.start()
    bridge.document(name).getArray<string>('items').push(['from the bridge'])
    doc.getArray<string>('items').push(['from the peer'])
    const session = await sync.sync(address, name, doc)
    await session.synced
    await waitFor('the bridge has the peer’s item', () => bridge.document(name).getArray('items').length === 2)
    expect([...doc.getArray<string>('items').toArray()].sort()).toEqual(['from the bridge', 'from the peer'])
    await session.close()
  } finally {
    await sync.stop()
  }
}

describe('the bridge’s transports, encrypters and muxers', () => {
  let bridge: VivimBridge
  const started: Libp2p[] = []
  const peer = async <T extends Libp2p>(starting: Promise<T>): Promise<T> => {
    const node = await starting
    started.push(node)
    return node
  }

  beforeAll(async () => {
    bridge = await startBridge({
      listen: ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/udp/0/webrtc-direct'],
      // Every peer here dials from 127.0.0.1, more than libp2p's 5 a second from one host.
      inboundConnectionsPerHost: 100,
    })
  })
  afterAll(async () => {
    await Promise.all(started.map((node) => node.stop()))
    await bridge?.stop()
  })

  it('a peer that offers only TLS and mplex connects, pings and syncs a document', async () => {
    const old = await peer(createNodeOffering({ encrypters: [tls()], muxers: [mplex()] }))
    const connection = await old.dial(addressOf(bridge, 'tcp'))
    expect(connection.encryption).toBe(TLS)
    expect(connection.multiplexer).toBe(MPLEX)
    expect(await old.services.ping.ping(bridge.peerId)).toBeGreaterThanOrEqual(0)
    await syncWithBridge(old, bridge, addressOf(bridge, 'tcp'), 'over-tls-mplex')
    const seen = bridge.node.getConnections(old.peerId)[0]
    expect([seen?.encryption, seen?.multiplexer]).toEqual([TLS, MPLEX])
  })

  it('a peer that offers Noise, TLS, Yamux and mplex gets Noise and Yamux', async () => {
    const modern = await peer(createNodeOffering({ encrypters: [noise(), tls()], muxers: [yamux(), mplex()] }))
    const connection = await modern.dial(addressOf(bridge, 'tcp'))
    expect([connection.encryption, connection.multiplexer]).toEqual([NOISE, YAMUX])
    expect(await modern.services.ping.ping(bridge.peerId)).toBeGreaterThanOrEqual(0)
  })

  it('the dialer’s preference decides: the bridge dialling gets Noise and Yamux, a peer preferring TLS and mplex gets those', async () => {
    const offer = () => ({ encrypters: [tls(), noise()], muxers: [mplex(), yamux()] })
    // Both ends must agree on the muxer, though this peer would rather have mplex (the spec's rule: the dialer's list decides).
    const dialled = await peer(createNodeOffering(offer()))
    const fromBridge = await bridge.node.dial(dialled.getMultiaddrs()[0] as Multiaddr)
    expect([fromBridge.encryption, fromBridge.multiplexer]).toEqual([NOISE, YAMUX])
    await waitFor('the peer has the connection', () => dialled.getConnections(bridge.peerId).length > 0)
    const seen = dialled.getConnections(bridge.peerId)[0]
    expect([seen?.encryption, seen?.multiplexer]).toEqual([NOISE, YAMUX])
    expect(await dialled.services.ping.ping(bridge.peerId)).toBeGreaterThanOrEqual(0)
    const dialling = await peer(createNodeOffering(offer()))
    const toBridge = await dialling.dial(addressOf(bridge, 'tcp'))
    expect([toBridge.encryption, toBridge.multiplexer]).toEqual([TLS, MPLEX])
    expect(await dialling.services.ping.ping(bridge.peerId)).toBeGreaterThanOrEqual(0)
  })

  it('a peer dials the bridge over WebRTC-direct (no certificate of the bridge’s to trust), pings and syncs', async () => {
    const address = addressOf(bridge, 'webrtc-direct')
    // The certificate is self-signed: the browser checks its hash, which the address carries.
    expect(address.toString()).toMatch(/^\/ip4\/127\.0\.0\.1\/udp\/\d+\/webrtc-direct\/certhash\/[^/]+\/p2p\//)
    const browserLike = await peer(createWebRTCDirectDialer())
    const connection = await browserLike.dial(address)
    expect(connection.remoteAddr.toString()).toContain('/webrtc-direct')
    expect(connection.remotePeer.equals(bridge.peerId)).toBe(true)
    expect(await browserLike.services.ping.ping(bridge.peerId)).toBeGreaterThanOrEqual(0)
    await syncWithBridge(browserLike, bridge, address, 'over-webrtc-direct')
  })

  it('a peer offering only an encrypter, or only a muxer, the bridge does not speak is refused; others are still served', async () => {
    const noEncrypter = await peer(createNodeOffering({ encrypters: [unknownEncrypter], muxers: [yamux()] }))
    await expect(noEncrypter.dial(addressOf(bridge, 'tcp'))).rejects.toThrow()
    const noMuxer = await peer(createNodeOffering({ encrypters: [noise()], muxers: [unknownMuxer] }))
    await expect(noMuxer.dial(addressOf(bridge, 'tcp'))).rejects.toThrow()
    await waitFor('the bridge holds no connection from either', () =>
      [noEncrypter, noMuxer].every((p) => bridge.node.getConnections(p.peerId).length === 0),
    )
    const after = await peer(createNodeOffering({ encrypters: [tls()], muxers: [mplex()] }))
    expect(await after.services.ping.ping(addressOf(bridge, 'tcp'))).toBeGreaterThanOrEqual(0)
  })

  it('bytes that are not libp2p, on the TCP port and on the WebRTC-direct port, are dropped; others are still served', async () => {
    const tcp = hostPort(addressOf(bridge, 'tcp'))
    // 0xff bytes are a length prefix that never ends: the bridge drops the socket when its inbound upgrade times out (10 s).
    await new Promise<void>((done, fail) => {
      const socket = connect(tcp.port, tcp.host, () => socket.write(Buffer.alloc(4096, 0xff)))
      socket.on('error', () => {}) // a reset is as good as a close
      socket.on('close', () => done())
      setTimeout(() => fail(new Error('the bridge kept a socket that sent junk')), 45_000).unref()
    })
    const udp = hostPort(addressOf(bridge, 'webrtc-direct'))
    const junk = createSocket('udp4')
    for (const size of [1, 20, 548, 1200]) {
      await new Promise<void>((done) => junk.send(Buffer.alloc(size, 0xab), udp.port, udp.host, () => done()))
    }
    junk.close()
    const browserLike = await peer(createWebRTCDirectDialer())
    expect(await browserLike.services.ping.ping(addressOf(bridge, 'webrtc-direct'))).toBeGreaterThanOrEqual(0)
    const old = await peer(createNodeOffering({ encrypters: [tls()], muxers: [mplex()] }))
    expect(await old.services.ping.ping(addressOf(bridge, 'tcp'))).toBeGreaterThanOrEqual(0)
  })

  it('a bridge started from the command line’s defaults listens on WebRTC-direct next to TCP and WebSockets', () => {
    expect(parseOptions([], {}).init.listen).toEqual([
      '/ip4/0.0.0.0/tcp/4001',
      '/ip4/0.0.0.0/tcp/4002/ws',
      '/ip4/0.0.0.0/udp/4003/webrtc-direct',
    ])
  })
})
