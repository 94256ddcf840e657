/**
 * How this browser reaches another peer, and how it gets there: through a
 * bridge's circuit relay first, then upgraded to WebRTC when both sides can.
 *
 * The upgrade fails in real networks (symmetric NATs without TURN, WebRTC
 * turned off by policy or an extension), and js-libp2p does not fall back by
 * itself: the WebRTC dial throws, and the relayed connection that carried its
 * signalling may be closed by the remote side or time out at the relay's
 * limit. So a wanted peer is dialled again over the relay after a failed
 * upgrade, and again whenever its last connection closes (with back-off, ten
 * failed dials in a row at most), until the app lets it go; `path` says
 * which one is in use.
 *
 * The side that answers a failed upgrade has the opposite problem: js-libp2p
 * reports its WebRTC connection open as soon as the signalling is done,
 * before ICE has connected, and that connection may never carry a byte. So a
 * WebRTC connection counts as a path only once identify has completed over
 * it (libp2p runs identify on every new connection); until then the relay
 * is the path.
 *
 * @example
 * ```ts
 * const paths = new MeshPaths(node, { webRTC: true })
 * await paths.connect(peerId, circuitAddrs) // 'webrtc', or 'relay' when the upgrade failed
 * paths.path(peerId)
 * ```
 */
import type { Connection, IdentifyResult, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { MeshLibp2p } from './node.ts'

/** How a peer is reached: a WebRTC connection of its own, a bridge's relay, or a direct transport (a bridge). */
export type MeshPath = 'webrtc' | 'relay' | 'direct' | 'none'

/** How long a WebRTC upgrade may take before the relay is kept instead. */
const UPGRADE_TIMEOUT_MS = 20_000
/** Waits between dials to a wanted peer that has no connection. */
const REDIAL_DELAYS_MS = [1_000, 2_000, 5_000, 10_000, 30_000]
/** Dials in a row that failed before a peer is let go (a closed tab; a lookup finds it again if it comes back). */
const MAX_REDIALS = 10

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

/** The best of `connections` (open ones only): WebRTC, then a direct transport, then the relay. */
export function bestConnection<C extends Pick<Connection, 'remoteAddr' | 'status'>>(
  connections: readonly C[],
): C | undefined {
  const open = connections.filter((c) => c.status === 'open')
  for (const path of ['webrtc', 'direct', 'relay'] as const) {
    const found = open.find((c) => pathOf(c) === path)
    if (found) return found
  }
  return undefined
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
  /** WebRTC connections identify has completed over: the ones that carry data. */
  private readonly identified = new Set<string>()
  private readonly onClose = (event: CustomEvent<Connection>) => {
    this.identified.delete(event.detail.id)
    this.closed(event.detail)
  }
  private readonly onOpen = (event: CustomEvent<Connection>) => this.changed(event.detail.remotePeer)
  private readonly onIdentify = (event: CustomEvent<IdentifyResult>) => {
    const { connection } = event.detail
    if (pathOf(connection) !== 'webrtc' || connection.status !== 'open') return
    this.identified.add(connection.id)
    this.changed(connection.remotePeer)
  }

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
    node.addEventListener('peer:identify', this.onIdentify)
  }

  /** The path in use to `peer` now. */
  path(peer: PeerId): MeshPath {
    const best = this.connection(peer)
    return best === undefined ? 'none' : pathOf(best)
  }

  /** The connection to open streams to `peer` on: the best one that carries data. */
  connection(peer: PeerId): Connection | undefined {
    const usable = this.node.getConnections(peer).filter((c) => pathOf(c) !== 'webrtc' || this.identified.has(c.id))
    return bestConnection(usable)
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
        // libp2p may answer with the relayed connection when ICE fails (it dials the peer's known addresses too).
        const connection = await this.node.dial(webrtc, {
          signal: AbortSignal.timeout(UPGRADE_TIMEOUT_MS),
          // Relayed already: dial anyway, or libp2p answers with the relayed connection.
          force: before === 'relay',
        })
        if (pathOf(connection) !== 'webrtc')
          this.onError(new Error(`no WebRTC to ${peer}: the upgrade did not complete`))
      } catch (error) {
        // The upgrade failed: the relay is the path (below).
        this.onError(new Error(`no WebRTC to ${peer}: ${(error as Error).message}`, { cause: error }))
      }
    }
    if (this.path(peer) === 'none') await this.node.dial(wanted.addrs)
    wanted.attempt = 0
    this.changed(peer)
    return this.path(peer)
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
    this.node.removeEventListener('peer:identify', this.onIdentify)
  }

  private changed(peer: PeerId): void {
    this.onChange(peer, this.path(peer))
  }

  private closed(connection: Connection): void {
    const peer = connection.remotePeer
    this.changed(peer)
    const wanted = this.wanted.get(peer.toString())
    if (wanted === undefined || this.path(peer) !== 'none' || wanted.timer !== undefined) return
    if (wanted.attempt >= MAX_REDIALS) {
      this.release(peer)
      return
    }
    const delay = REDIAL_DELAYS_MS[Math.min(wanted.attempt, REDIAL_DELAYS_MS.length - 1)] as number
    wanted.attempt++
    wanted.timer = setTimeout(() => {
      wanted.timer = undefined
      if (this.wanted.get(peer.toString()) !== wanted) return
      this.connect(peer, wanted.addrs).catch(() => this.closed(connection))
    }, delay)
  }
}
