/**
 * Records between the edge and the DHT. A record stored at the edge (`put`
 * from the hub) is checked under the DHT's own rules and put in the DHT,
 * unless the DHT already holds one that wins; the bridge then provides the
 * key in the DHT and at the edge. A `find` from the hub (the edge missed a
 * key) is a DHT lookup; the answer goes back with the providers the DHT
 * knows for the key. A provider announced at the edge is added to the peer
 * store, so the bridge can dial it for the mesh.
 *
 * A key's content id in the DHT's provider records is CIDv1, raw codec,
 * SHA-256 of the key's UTF-8 bytes.
 *
 * @example
 * ```ts
 * const mirror = new RecordMirror({ node, send: (f) => link.send(f) })
 * await mirror.handle({ t: 'put', r: recordBytes })
 * ```
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import {
  type BridgeClientFrame,
  BridgeFrameType,
  type BridgeHubFrame,
  decodeRecord,
  isMultiaddr,
  isPeerId,
  Limits,
  type ProviderFrame,
  selectRecord,
} from '@vivim/shared'
import type { Datastore } from 'interface-datastore'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { dhtKey, verifiedRecord } from './dht-records.ts'
import { localDhtValue } from './dht-store.ts'
import { type Logger, silentLogger } from './log.ts'
import type { BridgeMetrics } from './metrics.ts'
import type { BridgeLibp2p } from './node.ts'

/** What the mirror is given from outside. */
export interface RecordMirrorComponents {
  node: BridgeLibp2p
  /** The node's datastore, for what it holds itself. */
  datastore: Datastore
  /** Sends a frame to the hub; false while the link is down. */
  send: (frame: BridgeClientFrame) => boolean
  metrics?: BridgeMetrics
  log?: Logger
}

/** How long and how widely the mirror looks things up. */
export interface RecordMirrorInit {
  /** How long a DHT lookup for the edge may take (the hub gives up at `BridgeLimits.findTimeoutMs`). */
  findTimeoutMs?: number
  /** Most DHT providers passed to the edge per lookup. */
  maxProviders?: number
}

const RAW_CODEC = 0x55
/** Seconds a provider this bridge reports to the edge lives (renewed by the next put or find). */
const PROVIDER_TTL_SECONDS = Limits.maxProviderTtlMs / 1000

/** The content id under which the DHT lists providers of a record key. */
export async function recordKeyCid(key: string): Promise<CID> {
  return CID.createV1(RAW_CODEC, await sha256.digest(dhtKey(key)))
}

/** Records and providers between the edge's hub and the DHT: answers `find`, puts `put` records, announces providers. */
export class RecordMirror {
  private readonly c: RecordMirrorComponents
  private readonly findTimeoutMs: number
  private readonly maxProviders: number
  private readonly log: Logger

  constructor(components: RecordMirrorComponents, init: RecordMirrorInit = {}) {
    this.c = components
    this.findTimeoutMs = init.findTimeoutMs ?? 2_000
    this.maxProviders = init.maxProviders ?? 8
    this.log = components.log ?? silentLogger
  }

  /** Handles one frame from the hub; never throws (a bad record is logged and dropped). */
  async handle(frame: BridgeHubFrame): Promise<void> {
    try {
      if (frame.t === BridgeFrameType.Put) await this.put(frame.r)
      else if (frame.t === BridgeFrameType.Find) await this.find(frame.id, frame.key)
      else if (frame.t === BridgeFrameType.Provider) await this.providerFromEdge(frame)
    } catch (error) {
      this.log.warn('hub frame failed', { frame: frame.t, error: (error as Error).message })
    }
  }

  /** Puts a record's canonical bytes in the DHT unless the DHT holds a newer one; whether it was put. */
  async put(bytes: Uint8Array): Promise<boolean> {
    const { key } = decodeRecord(bytes)
    const record = await verifiedRecord(dhtKey(key), bytes)
    const current = await localDhtValue(this.c.datastore, key)
    if (current !== null && selectRecord(decodeRecord(current), record) !== record) return false
    for await (const _ of this.c.node.services.dht.put(dhtKey(key), bytes)) {
      // The query's progress events; the put is done when they end.
    }
    this.c.metrics?.dhtRecordsPut.inc()
    await this.provide(key)
    return true
  }

  /** The best valid record the DHT holds for `key` (this node's own copy only, with `localOnly`), or `null`. */
  async get(key: string, options: { localOnly?: boolean } = {}): Promise<Uint8Array | null> {
    // With no peer, kad-dht would hold the query until one connects: answer from this node's store.
    if (options.localOnly || this.c.node.getPeers().length === 0) return localDhtValue(this.c.datastore, key)
    let best: Uint8Array | null = null
    try {
      const events = this.c.node.services.dht.get(dhtKey(key), { signal: AbortSignal.timeout(this.findTimeoutMs) })
      for await (const event of events) {
        // kad-dht validated each value with the namespace's validator; the last one is its selection.
        // (A plain copy: the value may be a Node Buffer, and callers compare and re-send bytes.)
        if (event.name === 'VALUE') best = new Uint8Array(event.value)
      }
    } catch (error) {
      this.log.debug('dht lookup ended', { key, error: (error as Error).message })
    }
    return best
  }

  private async find(id: number, key: string): Promise<void> {
    const bytes = await this.get(key)
    this.c.send({ t: BridgeFrameType.Found, id, r: bytes })
    if (bytes !== null) await this.providersToEdge(key)
  }

  /** Announces this bridge as a provider of `key` in the DHT and at the edge. */
  private async provide(key: string): Promise<void> {
    const cid = await recordKeyCid(key)
    try {
      for await (const _ of this.c.node.services.dht.provide(cid, {
        signal: AbortSignal.timeout(this.findTimeoutMs),
      })) {
        // Progress events of the provide query.
      }
    } catch (error) {
      this.log.debug('dht provide ended', { key, error: (error as Error).message })
    }
    this.c.send(this.providerFrame(key, this.c.node.peerId.toString(), this.c.node.getMultiaddrs().map(String)))
  }

  /** Tells the edge which mesh peers the DHT lists as providers of `key`. */
  private async providersToEdge(key: string): Promise<void> {
    const cid = await recordKeyCid(key)
    let sent = 0
    try {
      for await (const event of this.c.node.services.dht.findProviders(cid, {
        signal: AbortSignal.timeout(this.findTimeoutMs),
      })) {
        if (event.name !== 'PROVIDER') continue
        for (const provider of event.providers) {
          if (sent++ >= this.maxProviders) return
          this.c.send(this.providerFrame(key, provider.id.toString(), provider.multiaddrs.map(String)))
        }
      }
    } catch (error) {
      this.log.debug('dht provider lookup ended', { key, error: (error as Error).message })
    }
  }

  private providerFrame(key: string, peer: string, addrs: string[]): ProviderFrame {
    const listed = addrs.filter(isMultiaddr).slice(0, Limits.maxProviderMultiaddrs)
    return { t: BridgeFrameType.Provider, key, peer, addrs: listed, ttl: PROVIDER_TTL_SECONDS }
  }

  private async providerFromEdge(frame: ProviderFrame): Promise<void> {
    // Providers named by a DID are SDK clients, not dialable libp2p peers.
    if (!isPeerId(frame.peer) || frame.addrs.length === 0) return
    const peerId = peerIdFromString(frame.peer)
    if (peerId.equals(this.c.node.peerId)) return
    await this.c.node.peerStore.merge(peerId, { multiaddrs: frame.addrs.map((a) => multiaddr(a)) })
  }
}
