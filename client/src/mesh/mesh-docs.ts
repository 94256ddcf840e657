/**
 * Documents over the mesh: a joined document is announced on the DHT under
 * its name, synced with every other peer that announced it (found through
 * the bridges, reached over WebRTC or the relay), and served to every peer
 * that dials this one for it, all with `/vivim/yjs-sync/1.0.0`.
 *
 * Syncs are dialled by the peer that found the other, so each pair has one
 * session per document. A session ends when its connection does (a relay's
 * limit, a closed tab); it is opened again over whatever connection remains
 * or comes back, and every lookup is repeated on an interval, so peers that
 * joined at the same moment, and missed each other, meet on the next round.
 *
 * @example
 * ```ts
 * const docs = new MeshDocs({ node, paths, sync })
 * const joined = docs.join('notes:n1', doc)
 * joined.leave()
 * ```
 */
import type { PeerInfo } from '@libp2p/interface'
import type { YjsSync } from '@vivim/shared/mesh'
import type * as Y from 'yjs'
import type { MeshLibp2p } from './node.ts'
import type { MeshPaths } from './paths.ts'
import { announce, findPeers } from './rendezvous.ts'

/** The parts documents run on. */
export interface MeshDocsComponents {
  node: MeshLibp2p
  paths: MeshPaths
  sync: YjsSync
  /** Told of each failure that is retried (a lookup, an announcement, a sync). */
  onError?: (error: Error) => void
}

/** A document joined on the mesh. */
export interface MeshDoc {
  /** The peers this document is synced with now. */
  peers(): string[]
  /** Stops syncing and announcing the document (sessions open now end). */
  leave(): void
}

/** How often lookups and announcements are repeated. */
const ROUND_MS = 30_000
/** Wait before a session that ended is opened again. */
const RESYNC_MS = 1_000

interface Joined {
  readonly doc: Y.Doc
  readonly sessions: Map<string, { close(): Promise<void> }>
  /** Peers a session is being opened with. */
  readonly opening: Set<string>
  /** Peers whose session ended with their connection: synced again once a path to them is back. */
  readonly lost: Map<string, Pick<PeerInfo, 'id' | 'multiaddrs'>>
  readonly timer: ReturnType<typeof setInterval>
}

/** Documents synced peer to peer, found through the DHT. */
export class MeshDocs {
  private readonly c: MeshDocsComponents
  private readonly joined = new Map<string, Joined>()

  constructor(components: MeshDocsComponents) {
    this.c = components
  }

  /** The document joined under `name`, for the sync protocol's listener. */
  doc(name: string): Y.Doc | null {
    return this.joined.get(name)?.doc ?? null
  }

  /** Joins `doc` under `name`: announced, looked up and synced until `leave()`. */
  join(name: string, doc: Y.Doc): MeshDoc {
    if (this.joined.has(name)) throw new Error(`${name} is joined already`)
    const joined: Joined = {
      doc,
      sessions: new Map(),
      opening: new Set(),
      lost: new Map(),
      timer: setInterval(() => void this.round(name), ROUND_MS),
    }
    this.joined.set(name, joined)
    void this.round(name)
    return {
      peers: () => [...joined.sessions.keys()],
      leave: () => this.leave(name),
    }
  }

  /** The path to `peer` changed (`MeshPaths`): a peer reachable again is synced again. */
  pathChanged(peer: string, reachable: boolean): void {
    if (!reachable) return
    for (const [name, joined] of this.joined) {
      const lost = joined.lost.get(peer)
      if (lost === undefined) continue
      joined.lost.delete(peer)
      void this.syncWith(name, lost).catch((e) => this.c.onError?.(e as Error))
    }
  }

  /** Leaves every document. */
  stop(): void {
    for (const name of [...this.joined.keys()]) this.leave(name)
  }

  private leave(name: string): void {
    const joined = this.joined.get(name)
    if (joined === undefined) return
    clearInterval(joined.timer)
    this.joined.delete(name)
    for (const session of joined.sessions.values()) void session.close()
  }

  /** One round: announce, look up, and sync with each peer found. */
  private async round(name: string): Promise<void> {
    const report = (error: unknown) => this.c.onError?.(error as Error)
    await announce(this.c.node, name).catch(report)
    try {
      for await (const peer of findPeers(this.c.node, name)) void this.syncWith(name, peer).catch(report)
    } catch (error) {
      report(error)
    }
  }

  /** Connects to `peer` (WebRTC or relay) and syncs `name` with it, unless a session is open or opening. */
  private async syncWith(name: string, peer: Pick<PeerInfo, 'id' | 'multiaddrs'>): Promise<void> {
    const joined = this.joined.get(name)
    const key = peer.id.toString()
    // Rounds overlap, and a lookup may name a peer twice: one session per document and pair.
    if (joined === undefined || joined.sessions.has(key) || joined.opening.has(key)) return
    joined.opening.add(key)
    try {
      const relayed = peer.multiaddrs.filter((a) => a.toString().includes('/p2p-circuit'))
      await this.c.paths.connect(peer.id, relayed)
      const connection = this.c.paths.connection(peer.id)
      if (connection === undefined || this.joined.get(name) !== joined) return
      const session = await this.c.sync.sync(connection, name, joined.doc)
      joined.sessions.set(key, session)
      void session.closed.then(() => {
        if (joined.sessions.get(key) === session) joined.sessions.delete(key)
        if (this.joined.get(name) !== joined) return
        // A peer still reachable is synced again at once; one whose connection went, when a path is back.
        if (this.c.paths.path(peer.id) === 'none') joined.lost.set(key, peer)
        else setTimeout(() => void this.syncWith(name, peer).catch((e) => this.c.onError?.(e as Error)), RESYNC_MS)
      })
    } finally {
      joined.opening.delete(key)
    }
  }
}
