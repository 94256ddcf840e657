/**
 * How this browser reaches another peer, and how it gets there: through a
 * bridge's circuit relay first, then upgraded to WebRTC when both sides can.
 *
 * The upgrade fails in real networks (symmetric NATs without TURN, WebRTC
 * turned off by policy or an extension), and js-libp2p does not fall back by
 * itself: the WebRTC dial throws, and the relayed connection that carried its
 * signalling may be closed by the remote side or time out at the relay's
 * limit. So a wanted peer is dialled again over the relay after a failed
 * upgrade, and again whenever its last connection closes, until the app lets
 * it go; `path` says which one is in use.
 *
 * @example
 * ```ts
 * const paths = new MeshPaths(node, { webRTC: true })
 * await paths.connect(peerId, circuitAddrs) // 'webrtc', or 'relay' when the upgrade failed
 * paths.path(peerId)
 * ```
 */
import type { Connection, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { MeshLibp2p } from './node.ts'

/** How a peer is reached: a WebRTC connection of its own, a bridge's relay, or a direct transport (a bridge). */
export type MeshPath = 'webrtc' | 'relay' | 'direct' | 'none'

/** How long a WebRTC upgrade may take before the relay is kept instead. */
const UPGRADE_TIMEOUT_MS = 20_000
/** Waits between dials to a wanted peer that has no connection. */
const REDIAL_DELAYS_MS = [1_000, 2_000, 5_000, 10_000, 30_000]

/**
 * The path one connection is. A WebRTC connection set up through a relay keeps the relayed
 * address as its remote address (`…/p2p-circuit/webrtc/p2p/<peer>`), so `webrtc` is looked
 * for before `p2p-circuit`.
 */
export function pathOf(connection: Pick<Connection, 'remoteAddr'>): MeshPath {
  const names = connection.remoteAddr.getComponents().map((c) => c.name)
  if (names.includes('webrtc')) return 'webrtc'
  if (names.includes('p2p-circuit')) return 'relay'
  return 'direct'
}

/** The best path among a peer's open connections. */
export function bestPath(connections: readonly Pick<Connection, 'remoteAddr' | 'status'>[]): MeshPath {
  const open = connections.filter((c) => c.status === 'open').map(pathOf)
  for (const path of ['webrtc', 'direct', 'relay'] as const) if (open.includes(path)) return path
  return 'none'
}

/** A peer this browser keeps a connection to, and the relayed addresses it was found at. */
interface Wanted {
  addrs: Multiaddr[]
  attempt: number
  timer: ReturnType<typeof setTimeout> | undefined
}

/** Keeps connections to wanted peers: WebRTC when the upgrade works, the relay when it does not. */
export class MeshPaths {
  private readonly node: MeshLibp2p
  private readonly webRTC: boolean
  private readonly wanted = new Map<string, Wanted>()
  private readonly onChange: (peer: PeerId, path: MeshPath) => void
  private readonly onError: (error: Error) => void
  private readonly onClose = (event: CustomEvent<Connection>) => this.closed(event.detail)
  private readonly onOpen = (event: CustomEvent<Connection>) =>
    this.onChange(event.detail.remotePeer, this.path(event.detail.remotePeer))

  constructor(
    node: MeshLibp2p,
    init: {
      webRTC: boolean
      onChange?: (peer: PeerId, path: MeshPath) => void
      /** Told why an upgrade to WebRTC failed (the relay is kept). */
      onError?: (error: Error) => void
    },
  ) {
    this.node = node
    this.webRTC = init.webRTC
    this.onChange = init.onChange ?? (() => {})
    this.onError = init.onError ?? (() => {})
    node.addEventListener('connection:close', this.onClose)
    node.addEventListener('connection:open', this.onOpen)
  }

  /** The path in use to `peer` now. */
  path(peer: PeerId): MeshPath {
    return bestPath(this.node.getConnections(peer))
  }

  /**
   * Connects to `peer`, found at relayed addresses `addrs` (`…/p2p-circuit/p2p/<peer>`): upgraded to
   * WebRTC when it can be, kept on the relay when it cannot, and dialled again while wanted.
   */
  async connect(peer: PeerId, addrs: Multiaddr[]): Promise<MeshPath> {
    const key = peer.toString()
    const wanted = this.wanted.get(key) ?? { addrs, attempt: 0, timer: undefined }
    wanted.addrs = addrs.length > 0 ? addrs : wanted.addrs
    this.wanted.set(key, wanted)
    const before = this.path(peer)
    if (before === 'webrtc' || before === 'direct') return before
    if (this.webRTC) {
      const webrtc = wanted.addrs.map((a) => a.encapsulate('/webrtc'))
      try {
        await this.node.dial(webrtc, { signal: AbortSignal.timeout(UPGRADE_TIMEOUT_MS) })
      } catch (error) {
        // The upgrade failed: the relay is the path (below).
        this.onError(new Error(`no WebRTC to ${peer}: ${(error as Error).message}`, { cause: error }))
      }
    }
    if (this.path(peer) === 'none') await this.node.dial(wanted.addrs)
    wanted.attempt = 0
    const path = this.path(peer)
    this.onChange(peer, path)
    return path
  }

  /** Stops keeping a connection to `peer` (its open connections stay until libp2p prunes them). */
  release(peer: PeerId): void {
    const wanted = this.wanted.get(peer.toString())
    clearTimeout(wanted?.timer)
    this.wanted.delete(peer.toString())
  }

  /** Stops every redial. */
  stop(): void {
    for (const wanted of this.wanted.values()) clearTimeout(wanted.timer)
    this.wanted.clear()
    this.node.removeEventListener('connection:close', this.onClose)
    this.node.removeEventListener('connection:open', this.onOpen)
  }

  private closed(connection: Connection): void {
    const peer = connection.remotePeer
    this.onChange(peer, this.path(peer))
    const wanted = this.wanted.get(peer.toString())
    if (wanted === undefined || this.path(peer) !== 'none' || wanted.timer !== undefined) return
    const delay = REDIAL_DELAYS_MS[Math.min(wanted.attempt, REDIAL_DELAYS_MS.length - 1)] as number
    wanted.attempt++
    wanted.timer = setTimeout(() => {
      wanted.timer = undefined
      if (this.wanted.get(peer.toString()) !== wanted) return
      this.connect(peer, wanted.addrs).catch(() => this.closed(connection))
    }, delay)
  }
}
