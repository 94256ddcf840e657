/**
 * `MeshPeer`: the browser as a peer of the VIVIM mesh. It dials the bridges
 * it is given, takes a relay reservation on them so other browsers can reach
 * it, and then syncs documents (`/vivim/yjs-sync/1.0.0`) and topics
 * (Gossipsub, the edge's signed envelopes) directly with the peers that share
 * them, over WebRTC where the upgrade works and through the relay where it
 * does not. The edge stays the durable copy: the mesh is the fast path
 * between peers that are online together.
 *
 * @example
 * ```ts
 * const peer = await MeshPeer.start({ bridges: [bridgeAddr] }, { identity, edge: client })
 * const notes = peer.docs.join('notes:n1', doc)
 * peer.onPath((other, path) => console.log(other, path)) // 'webrtc', or 'relay' when the upgrade failed
 * peer.topics.subscribe('public:chat:lobby', (m) => console.log(m.text()))
 * ```
 */
import type { PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { ErrorCode, type Identity, VivimError } from '@vivim/shared'
import { YjsSync } from '@vivim/shared/mesh'
import { MeshDocs } from './mesh-docs.ts'
import { type EdgeTopics, MeshTopics } from './mesh-topics.ts'
import { createMeshNode, type MeshLibp2p, type MeshPeerInit } from './node.ts'
import { type MeshPath, MeshPaths } from './paths.ts'

/** What the browser peer is given from the app. */
export interface MeshPeerComponents {
  /** Signs what this peer publishes on topics. */
  identity?: Identity
  /** The edge as a second path for topics (a `VivimClient`). */
  edge?: EdgeTopics
  /** Told of each failure the peer retries by itself. */
  onError?: (error: Error) => void
}

/** How long `start` waits for a relay reservation on a bridge. */
const RESERVATION_TIMEOUT_MS = 20_000

type PathListener = (peer: string, path: MeshPath) => void

/** A browser (or Node) peer of the mesh: documents and topics directly between peers. */
export class MeshPeer {
  readonly node: MeshLibp2p
  readonly docs: MeshDocs
  readonly topics: MeshTopics
  private readonly paths: MeshPaths
  private readonly sync: YjsSync
  private readonly pathListeners = new Set<PathListener>()

  private constructor(node: MeshLibp2p, init: MeshPeerInit, components: MeshPeerComponents) {
    this.node = node
    this.paths = new MeshPaths(node, {
      webRTC: init.webRTC !== false,
      ...(components.onError ? { onError: components.onError } : {}),
      onChange: (peer, path) => {
        this.docs.pathChanged(peer.toString(), path !== 'none')
        for (const listener of this.pathListeners) listener(peer.toString(), path)
      },
    })
    this.sync = new YjsSync({ node }, { docs: (name) => this.docs.doc(name), runOnLimitedConnection: true })
    this.docs = new MeshDocs({
      node,
      paths: this.paths,
      sync: this.sync,
      ...(components.onError ? { onError: components.onError } : {}),
    })
    this.topics = new MeshTopics(
      {
        pubsub: node.services.pubsub,
        ...(components.edge ? { edge: components.edge } : {}),
        ...(components.onError ? { onError: components.onError } : {}),
      },
      components.identity ? { identity: components.identity } : {},
    )
  }

  /** Creates and starts a peer: dials the bridges and waits for a relay reservation on one of them. */
  static async start(init: MeshPeerInit, components: MeshPeerComponents = {}): Promise<MeshPeer> {
    if (init.bridges.length === 0) throw new VivimError(ErrorCode.BadRequest, 'a mesh peer needs a bridge')
    const node = await createMeshNode(init)
    const peer = new MeshPeer(node, init, components)
    await node.start()
    await peer.sync.start()
    try {
      const reserved = peer.reservation()
      const dials = await Promise.allSettled(init.bridges.map((b) => node.dial(multiaddr(b))))
      if (!dials.some((d) => d.status === 'fulfilled'))
        throw new VivimError(ErrorCode.ConnectionFailed, 'no bridge answered')
      await reserved
    } catch (error) {
      await peer.stop()
      throw error
    }
    return peer
  }

  /** This peer's id. */
  get id(): string {
    return this.node.peerId.toString()
  }

  /** The addresses other peers reach this one at: relayed through bridges, and their WebRTC upgrade. */
  get addresses(): string[] {
    return this.node.getMultiaddrs().map((a) => a.toString())
  }

  /** The path in use to `peer`: `webrtc`, `relay`, `direct` (a bridge) or `none`. */
  path(peer: string | PeerId): MeshPath {
    return this.paths.path(typeof peer === 'string' ? peerIdFromString(peer) : peer)
  }

  /** Calls `listener` whenever the path to a peer changes; returns a function that stops it. */
  onPath(listener: PathListener): () => void {
    this.pathListeners.add(listener)
    return () => this.pathListeners.delete(listener)
  }

  /** Connects to `peer` at its relayed addresses: WebRTC when the upgrade works, else the relay. */
  async connect(peer: string, addrs: string[]): Promise<MeshPath> {
    return this.paths.connect(peerIdFromString(peer), addrs.map(multiaddr))
  }

  /** Leaves every document and topic and stops the node. */
  async stop(): Promise<void> {
    this.docs.stop()
    this.topics.stop()
    this.paths.stop()
    await this.sync.stop().catch(() => {})
    await this.node.stop()
  }

  /** Settles once this peer has a relayed address (a bridge holds a reservation for it). */
  private reservation(): Promise<void> {
    const relayed = () => this.node.getMultiaddrs().some((a) => a.toString().includes('/p2p-circuit'))
    return new Promise((done, fail) => {
      const timer = setTimeout(() => {
        this.node.removeEventListener('self:peer:update', check)
        fail(new VivimError(ErrorCode.ConnectionFailed, 'no bridge gave a relay reservation'))
      }, RESERVATION_TIMEOUT_MS)
      const check = () => {
        if (!relayed()) return
        clearTimeout(timer)
        this.node.removeEventListener('self:peer:update', check)
        done()
      }
      this.node.addEventListener('self:peer:update', check)
      check()
    })
  }
}
