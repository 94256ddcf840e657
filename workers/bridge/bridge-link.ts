/**
 * `BridgeHub`, the Durable Object that holds the links of the libp2p bridges
 * connected to this edge (`/v1/bridge`, frames in `shared/src/bridge-protocol.ts`).
 * One hub serves the whole edge: a handful of bridges, each one socket.
 *
 * The hub asks the bridges for records the edge misses (`findRecord`), tells
 * them about records stored here (`recordStored`) and provider announcements
 * made here (`providerAnnounced`), and hands the providers they see in the
 * mesh to the index shards. Sockets are hibernatable; what a bridge said in
 * its `hello` rides in the socket's attachment, so it outlives hibernation.
 * A pending `find` keeps the object awake (the RPC that waits on it is in
 * flight), so the pending map may live in memory.
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
  VivimError,
} from '@vivim/shared'
import { shardFor } from '../indexer/shards.ts'
import { verifiedRecordBytes } from '../indexer/verified-record.ts'
import { CredentialGuard } from '../relay/room-guard.ts'
import { readRoomRequest } from '../relay/room-headers.ts'
import { answerRefusing, SocketHost } from '../relay/socket-host.ts'
import { type SocketState, setSocketState, socketState } from '../relay/socket-state.ts'

/** A bridge's socket state: the room's, plus who the bridge said it is. */
interface BridgeSocketState extends SocketState {
  readonly peer?: string
  readonly addrs?: readonly string[]
}

export interface BridgePeer {
  readonly peer: string
  readonly addrs: readonly string[]
}

interface PendingFind {
  readonly key: string
  /** The bridges asked that have not answered yet. */
  readonly waiting: Set<WebSocket>
  readonly done: (bytes: Uint8Array | null) => void
}

export class BridgeHub extends DurableObject<Env> {
  private nextId = 1
  private readonly pending = new Map<number, PendingFind>()
  /** The links' sockets: a hub owns no resource, so it holds them without a room's owner. */
  private readonly sockets: SocketHost

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    this.sockets = new SocketHost(ctx, { guard: CredentialGuard, left: (ws) => this.left(ws) })
  }

  override fetch(request: Request): Promise<Response> {
    return answerRefusing(request, async () => {
      const { access } = readRoomRequest(request)
      const [client] = await this.sockets.accept(access, { what: 'connections to one room' })
      return new Response(null, { status: 101, webSocket: client })
    })
  }

  /** Closes the links admitted on any of these (now revoked) tokens. */
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

  /** The bridges linked now, as they introduced themselves. */
  peers(): BridgePeer[] {
    return this.bridges().flatMap((ws) => {
      const { peer, addrs } = socketState(ws) as BridgeSocketState
      return peer === undefined ? [] : [{ peer, addrs: addrs ?? [] }]
    })
  }

  /**
   * Asks every linked bridge for `key`; the first verified record wins. A miss
   * when no bridge is linked, when all say they lack it, or after
   * `BridgeLimits.findTimeoutMs`.
   */
  findRecord(key: string): Promise<Uint8Array | null> {
    const bridges = this.bridges()
    if (bridges.length === 0 || this.pending.size >= BridgeLimits.maxPendingFinds) return Promise.resolve(null)
    const id = this.nextId++
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(null), BridgeLimits.findTimeoutMs)
      const finish = (bytes: Uint8Array | null) => {
        clearTimeout(timer)
        this.pending.delete(id)
        resolve(bytes)
      }
      this.pending.set(id, { key, waiting: new Set(bridges), done: finish })
      const frame = encodeBridgeFrame({ t: BridgeFrameType.Find, id, key })
      for (const ws of bridges) this.sockets.send(ws, frame)
    })
  }

  /** A record was stored at this edge: every bridge puts it in the DHT. */
  recordStored(bytes: Uint8Array): number {
    return this.broadcast({ t: BridgeFrameType.Put, r: bytes })
  }

  /** A provider was announced at this edge: every bridge adds it to its peer store and the DHT's view. */
  providerAnnounced(key: string, announcement: ProviderAnnouncement): number {
    const ttl = Math.max(1, Math.floor(announcement.ttlMs / 1000))
    const { peer, multiaddrs } = announcement
    return this.broadcast({ t: BridgeFrameType.Provider, key, peer, addrs: [...multiaddrs], ttl })
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
        this.ctx.waitUntil(this.found(ws, frame.id, frame.r))
        return
      case BridgeFrameType.Provider:
        this.ctx.waitUntil(this.providerFromMesh(ws, frame.key, frame.peer, frame.addrs, frame.ttl))
        return
    }
  }

  private left(ws: WebSocket): void {
    // A bridge that leaves will never answer: the finds it was asked stop waiting for it.
    for (const find of [...this.pending.values()]) answered(find, ws)
  }

  private async found(ws: WebSocket, id: number, bytes: Uint8Array | null): Promise<void> {
    const find = this.pending.get(id)
    if (!find?.waiting.has(ws)) return
    // A bridge's answer is checked like any other source's: a bad record counts as a miss.
    const verified = bytes === null ? null : await verifiedRecordBytes(bytes, find.key)
    if (!find.waiting.has(ws)) return
    if (verified !== null) find.done(verified)
    else answered(find, ws)
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

  private broadcast(frame: BridgeHubFrame): number {
    return this.sockets.broadcast(encodeBridgeFrame(frame), { readersOnly: false })
  }

  private bridges(): WebSocket[] {
    return this.sockets.sockets(false)
  }
}

function answered(find: PendingFind, ws: WebSocket): void {
  if (find.waiting.delete(ws) && find.waiting.size === 0) find.done(null)
}
