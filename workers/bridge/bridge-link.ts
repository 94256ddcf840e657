/**
 * `BridgeLink`, the Durable Object that holds one libp2p bridge's link to
 * this edge (`/v1/bridge`, frames in `shared/src/bridge-protocol.ts`). Each
 * link has an object of its own, named `link:<random id>` by the Worker when
 * the bridge connects, so no object serves every bridge: a record stored
 * here reaches each bridge through that bridge's object (`records.ts`), and
 * the links grow by adding objects. Which links are live is kept by
 * `BridgeRegistry` (`link-registry.ts`), which this object joins before it
 * accepts the socket and leaves when the socket goes.
 *
 * The link asks its bridge for records the edge misses (`findRecord`),
 * tells it about records stored here (`recordStored`) and provider
 * announcements made here (`providerAnnounced`), and hands the providers the
 * bridge sees in the mesh to the index shards. The socket is hibernatable;
 * what the bridge said in its `hello` and the link's own name ride in the
 * socket's attachment, so they outlive hibernation. A pending `find` keeps
 * the object awake (the RPC that waits on it is in flight), so the pending
 * map may live in memory. Its credential's expiry (an alarm) and revocation
 * (the revocation registry watches `{ kind: 'bridge', name }` and calls
 * `revoke`) close the link.
 *
 * State: the socket and its attachment, and the expiry alarm; no storage of
 * its own, so an object whose bridge left holds nothing.
 */

import { DurableObject } from 'cloudflare:workers'
import {
  BridgeFrameType,
  type BridgeHubFrame,
  BridgeLimits,
  CloseCode,
  decodeBridgeClientFrame,
  ErrorCode,
  encodeBridgeFrame,
  type ProviderAnnouncement,
  unwrap,
  VivimError,
} from '@vivim/shared'
import { shardFor } from '../indexer/shards.ts'
import { verifiedRecordBytes } from '../indexer/verified-record.ts'
import { CredentialGuard } from '../relay/room-guard.ts'
import { readRoomRequest } from '../relay/room-headers.ts'
import { answerRefusing, SocketHost } from '../relay/socket-host.ts'
import { admittedState, type SocketState, setSocketState, socketState } from '../relay/socket-state.ts'
import { registryOf } from './link-registry.ts'

/** A bridge's socket state: the room's, the link's name, and who the bridge said it is. */
interface BridgeSocketState extends SocketState {
  readonly link: string
  readonly peer?: string
  readonly addrs?: readonly string[]
}

export interface BridgePeer {
  readonly peer: string
  readonly addrs: readonly string[]
}

/** A link's answer: `linked` is false once its bridge has left, so the caller forgets the link. */
export type LinkAnswer<T> = { readonly linked: false } | { readonly linked: true; readonly value: T }

const gone = { linked: false } as const
const answer = <T>(value: T): LinkAnswer<T> => ({ linked: true, value })

interface PendingFind {
  readonly key: string
  readonly done: (bytes: Uint8Array | null) => void
}

export class BridgeLink extends DurableObject<Env> {
  private nextId = 1
  private readonly pending = new Map<number, PendingFind>()
  /** The link's socket: a link owns no resource, so it holds it without a room's owner. */
  private readonly sockets: SocketHost
  /** True while the link joins the registry, before its socket is accepted: it is not gone yet. */
  private joining = false

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    this.sockets = new SocketHost(ctx, { guard: CredentialGuard, left: (ws) => this.left(ws) })
  }

  override fetch(request: Request): Promise<Response> {
    return answerRefusing(request, async () => {
      const { name, access } = readRoomRequest(request)
      if (this.joining || this.bridge() !== null) throw new VivimError(ErrorCode.Conflict, 'this link is taken')
      this.joining = true
      try {
        // Joined first: the registry refuses a link past its bounds before any socket is accepted.
        unwrap(await registryOf(this.env).add(name, access.did))
        const state: BridgeSocketState = { ...admittedState(access), link: name }
        const [client] = await this.sockets.accept(access, { what: 'bridge links', state })
        return new Response(null, { status: 101, webSocket: client })
      } finally {
        this.joining = false
      }
    })
  }

  /** Closes the link if it was admitted on any of these (now revoked) tokens. */
  revoke(ids: string[]): number {
    return this.sockets.guard.revoke(ids)
  }

  override async alarm(): Promise<void> {
    await this.sockets.guard.expire()
  }

  override webSocketClose(ws: WebSocket, code: number, reason: string): void {
    this.sockets.closed(ws, code, reason)
  }

  override webSocketError(ws: WebSocket): void {
    this.sockets.errored(ws)
  }

  /** The bridge as it introduced itself (null until its `hello`). */
  peer(): LinkAnswer<BridgePeer | null> {
    const ws = this.bridge()
    if (ws === null) return this.joining ? answer(null) : gone
    const { peer, addrs } = socketState(ws) as BridgeSocketState
    return answer(peer === undefined ? null : { peer, addrs: addrs ?? [] })
  }

  /**
   * Asks the bridge for `key`; its record if verified, else a miss: when it
   * says it lacks the key, answers a bad record, leaves, or after
   * `BridgeLimits.findTimeoutMs`.
   */
  findRecord(key: string): Promise<LinkAnswer<Uint8Array | null>> {
    const ws = this.bridge()
    if (ws === null) return Promise.resolve(this.joining ? answer(null) : gone)
    if (this.pending.size >= BridgeLimits.maxPendingFinds) return Promise.resolve(answer(null))
    const id = this.nextId++
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(null), BridgeLimits.findTimeoutMs)
      const finish = (bytes: Uint8Array | null) => {
        clearTimeout(timer)
        this.pending.delete(id)
        resolve(answer(bytes))
      }
      this.pending.set(id, { key, done: finish })
      this.sockets.send(ws, encodeBridgeFrame({ t: BridgeFrameType.Find, id, key }))
    })
  }

  /** A record was stored at this edge: the bridge puts it in the DHT. */
  recordStored(bytes: Uint8Array): LinkAnswer<true> {
    return this.push({ t: BridgeFrameType.Put, r: bytes })
  }

  /** A provider was announced at this edge: the bridge adds it to its peer store and the DHT's view. */
  providerAnnounced(key: string, announcement: ProviderAnnouncement): LinkAnswer<true> {
    const ttl = Math.max(1, Math.floor(announcement.ttlMs / 1000))
    const { peer, multiaddrs } = announcement
    return this.push({ t: BridgeFrameType.Provider, key, peer, addrs: [...multiaddrs], ttl })
  }

  override webSocketMessage(ws: WebSocket, message: ArrayBuffer | string): void {
    const bytes = this.sockets.binary(ws, message)
    if (bytes === null || !this.sockets.takeFrame(ws)) return
    let frame: ReturnType<typeof decodeBridgeClientFrame>
    try {
      frame = decodeBridgeClientFrame(bytes)
    } catch (error) {
      this.sockets.reject(ws, CloseCode.BadFrame, (error as Error).message)
      return
    }
    const state = socketState(ws) as BridgeSocketState
    if (!state.canWrite) {
      this.sockets.reject(ws, CloseCode.Forbidden, 'this credential may not link a bridge')
      return
    }
    switch (frame.t) {
      case BridgeFrameType.Hello:
        setSocketState(ws, { ...state, peer: frame.peer, addrs: frame.addrs } as BridgeSocketState)
        return
      case BridgeFrameType.Found:
        this.ctx.waitUntil(this.found(frame.id, frame.r))
        return
      case BridgeFrameType.Provider:
        this.ctx.waitUntil(this.providerFromMesh(ws, frame.key, frame.peer, frame.addrs, frame.ttl))
        return
    }
  }

  private left(ws: WebSocket): void {
    // A bridge that leaves will never answer: its finds are misses now, and the registry forgets the link.
    for (const find of [...this.pending.values()]) find.done(null)
    const { link } = socketState(ws) as Partial<BridgeSocketState>
    if (link !== undefined) this.ctx.waitUntil(registryOf(this.env).remove(link))
  }

  private async found(id: number, bytes: Uint8Array | null): Promise<void> {
    const find = this.pending.get(id)
    if (!find) return
    // A bridge's answer is checked like any other source's: a bad record counts as a miss.
    find.done(bytes === null ? null : await verifiedRecordBytes(bytes, find.key))
  }

  private async providerFromMesh(ws: WebSocket, key: string, peer: string, addrs: string[], ttl: number) {
    try {
      await shardFor(this.env, key).announce(key, { peer, multiaddrs: addrs, ttlMs: ttl * 1000 })
    } catch (error) {
      // An error from the shard crosses RPC as a plain Error: its code survives only in VivimErrors made here.
      const code = error instanceof VivimError ? error.code : ErrorCode.InvalidProvider
      this.sockets.send(ws, encodeBridgeFrame({ t: BridgeFrameType.Error, code, message: (error as Error).message }))
    }
  }

  private push(frame: BridgeHubFrame): LinkAnswer<true> {
    const ws = this.bridge()
    if (ws === null) return this.joining ? answer(true) : gone
    this.sockets.send(ws, encodeBridgeFrame(frame))
    return answer(true)
  }

  /** The link's bridge socket, or null once it has left. */
  private bridge(): WebSocket | null {
    return this.sockets.sockets(false)[0] ?? null
  }
}
