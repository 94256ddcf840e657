/**
 * The bridge's link to the edge's `BridgeHub` (`GET /v1/bridge`, frames in
 * `shared/src/bridge-protocol.ts`): it introduces the bridge (`hello`),
 * hands the hub's frames to whoever handles them (`record-mirror.ts`) and
 * sends their answers. It reconnects with back-off and jitter
 * (`edge-socket.ts`); while it is down the mesh goes on, and the hub simply
 * has one bridge fewer to ask.
 *
 * @example
 * ```ts
 * const link = new EdgeLink({ credentials, hello: () => ({ peer, addrs }), onFrame: (f) => mirror.handle(f) })
 * link.start()
 * ```
 */
import {
  BRIDGE_RESOURCE,
  type BridgeClientFrame,
  BridgeFrameType,
  type BridgeHubFrame,
  BridgeLimits,
  decodeBridgeHubFrame,
  encodeBridgeFrame,
  isMultiaddr,
} from '@vivim/shared'
import type { EdgeCredentials } from './edge-credentials.ts'
import { EdgeSocket, type EdgeSocketState } from './edge-socket.ts'
import { type Logger, silentLogger } from './log.ts'

/** What the link is given from outside. */
export interface EdgeLinkComponents {
  credentials: EdgeCredentials
  log?: Logger
}

/** What the link says and where its frames go. */
export interface EdgeLinkInit {
  /** Who the bridge is in the mesh, read at each (re)connect. */
  hello: () => { peer: string; addrs: string[] }
  /** Each well-formed frame from the hub (an `err` frame is only logged). */
  onFrame: (frame: BridgeHubFrame) => void
  /** Each change of the socket's state. */
  onState?: (state: EdgeSocketState) => void
  initialDelayMs?: number
  maxDelayMs?: number
}

/** The bridge's link to the edge's hub (`/v1/bridge`): `hello` on every connect, then record and provider frames both ways. */
export class EdgeLink {
  private readonly socket: EdgeSocket
  private readonly log: Logger

  constructor(components: EdgeLinkComponents, init: EdgeLinkInit) {
    this.log = components.log ?? silentLogger
    this.socket = new EdgeSocket({
      name: 'bridge-link',
      url: () => components.credentials.socketUrl('/v1/bridge', BRIDGE_RESOURCE),
      onOpen: () => {
        const { peer, addrs } = init.hello()
        // The hub refuses multiaddrs it cannot parse; send only those it would keep.
        const listed = addrs.filter(isMultiaddr).slice(0, BridgeLimits.maxHelloAddrs)
        this.send({ t: BridgeFrameType.Hello, peer, addrs: listed })
      },
      onFrame: (bytes) => {
        let frame: BridgeHubFrame
        try {
          frame = decodeBridgeHubFrame(bytes)
        } catch (error) {
          this.log.warn('hub frame refused', { error: (error as Error).message })
          return
        }
        if (frame.t === BridgeFrameType.Error)
          this.log.warn('hub refused a frame', { code: frame.code, message: frame.message })
        else init.onFrame(frame)
      },
      ...(init.onState ? { onState: init.onState } : {}),
      ...(init.initialDelayMs !== undefined ? { initialDelayMs: init.initialDelayMs } : {}),
      ...(init.maxDelayMs !== undefined ? { maxDelayMs: init.maxDelayMs } : {}),
      log: this.log,
    })
  }

  /** The socket's state. */
  get state(): EdgeSocketState {
    return this.socket.state
  }

  /** Failed connects since the last one that held. */
  get retries(): number {
    return this.socket.retries
  }

  /** Connects, and reconnects after every drop. */
  start(): void {
    this.socket.start()
  }

  /** Sends a frame to the hub; false while the link is down. */
  send(frame: BridgeClientFrame): boolean {
    return this.socket.send(encodeBridgeFrame(frame))
  }

  /** Closes the link for good. */
  stop(): Promise<void> {
    return this.socket.stop()
  }
}
