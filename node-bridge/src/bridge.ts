/**
 * `VivimBridge`: a libp2p peer of the VIVIM mesh joined to an edge. It owns
 * the storage (key, peer store, DHT records), the node (`node.ts`), the link
 * to the edge's hub (`edge-link.ts`) with record mirroring
 * (`record-mirror.ts`), topic forwarding (`topic-bridge.ts`), document sync
 * (`yjs-sync.ts`) and metrics. Without an edge URL it is a plain mesh peer:
 * a bootstrap node, a DHT server, a relay.
 *
 * @example
 * ```ts
 * const bridge = await createBridge({ listen: ['/ip4/0.0.0.0/tcp/4001'], bootstrap: [], mdns: true,
 *   dataDir: './data', edgeUrl: 'http://127.0.0.1:8787', topics: ['public:*'] })
 * bridge.peerId.toString() // the same after a restart
 * await bridge.stop()
 * ```
 */
import type { PeerId } from '@libp2p/interface'
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr'
import { YjsSync } from '@vivim/shared/mesh'
import * as Y from 'yjs'
import { countDhtRecords } from './dht-store.ts'
import { EdgeCredentials } from './edge-credentials.ts'
import { EdgeLink } from './edge-link.ts'
import { type Logger, silentLogger } from './log.ts'
import { BridgeMetrics, type MetricsServer, type MetricsServerInit, serveMetrics } from './metrics.ts'
import { type BridgeLibp2p, type BridgeNodeInit, createBridgeNode } from './node.ts'
import { RecordMirror } from './record-mirror.ts'
import { type BridgeStorage, openStorage } from './storage.ts'
import { TopicBridge } from './topic-bridge.ts'
import { TopicJournal } from './topic-journal.ts'

/** How to run a bridge: its libp2p node, where it keeps state, and the edge it joins. */
export interface BridgeInit extends BridgeNodeInit {
  /** Where the key, the peer store and DHT records live; `null` for memory only (a new peer id each start). */
  dataDir: string | null
  /** The edge's base URL (`http(s)://…`); `null` runs the mesh alone. */
  edgeUrl: string | null
  /** Capabilities granted to the bridge's DID (text form), on `bridge` and on topics; none for a development edge. */
  edgeTokens?: readonly string[]
  /** Topics (names, or patterns ending in `*`) forwarded between the edge and Gossipsub. */
  topics: string[]
  /** Serve Prometheus metrics here; none by default. */
  metrics?: MetricsServerInit | null
  /** Back-off of the edge sockets, ms. */
  edgeInitialDelayMs?: number
  edgeMaxDelayMs?: number
  /** Most connections dialed on discovery; above it, discovered peers are only remembered. */
  dialOnDiscoveryBelow?: number
}

const REJOIN_INTERVAL_MS = 5_000

/** What a bridge is given from outside. */
export interface BridgeComponents {
  log?: Logger
  /** Each topic's handled edge cursor and unanswered publishes (`createBridge` opens it on the datastore). */
  journal?: TopicJournal
}

/** A running bridge: its libp2p node, the topic bridge, the record mirror, document sync and the link to the edge. Made by `createBridge`. */
export class VivimBridge {
  readonly node: BridgeLibp2p
  readonly storage: BridgeStorage
  readonly metrics: BridgeMetrics
  readonly topics: TopicBridge
  readonly records: RecordMirror
  readonly yjs: YjsSync
  readonly link: EdgeLink | null
  private readonly journal: TopicJournal | null
  private readonly documents = new Map<string, Y.Doc>()
  private readonly log: Logger
  private metricsServer: MetricsServer | null = null
  private rejoin: NodeJS.Timeout | null = null
  private stopped = false

  constructor(node: BridgeLibp2p, storage: BridgeStorage, init: BridgeInit, components: BridgeComponents) {
    this.node = node
    this.storage = storage
    this.log = components.log ?? silentLogger
    this.journal = components.journal ?? null
    this.metrics = new BridgeMetrics()
    const credentials =
      init.edgeUrl === null
        ? null
        : new EdgeCredentials({ edgeUrl: init.edgeUrl, grants: init.edgeTokens ?? [] }, storage.identity)
    const delays = {
      ...(init.edgeInitialDelayMs !== undefined ? { initialDelayMs: init.edgeInitialDelayMs } : {}),
      ...(init.edgeMaxDelayMs !== undefined ? { maxDelayMs: init.edgeMaxDelayMs } : {}),
    }
    this.link =
      credentials === null
        ? null
        : new EdgeLink(
            { credentials, log: this.log },
            {
              hello: () => ({ peer: node.peerId.toString(), addrs: node.getMultiaddrs().map(String) }),
              onFrame: (frame) => void this.records.handle(frame),
              ...delays,
            },
          )
    const send = this.link ? this.link.send.bind(this.link) : () => false
    this.records = new RecordMirror({ node, datastore: storage.datastore, send, metrics: this.metrics, log: this.log })
    this.topics = new TopicBridge(
      { node, credentials, metrics: this.metrics, log: this.log, ...(this.journal ? { journal: this.journal } : {}) },
      {
        topics: init.topics,
        ...(init.edgeInitialDelayMs !== undefined ? { edgeInitialDelayMs: init.edgeInitialDelayMs } : {}),
        ...(init.edgeMaxDelayMs !== undefined ? { edgeMaxDelayMs: init.edgeMaxDelayMs } : {}),
      },
    )
    this.yjs = new YjsSync({ node, log: this.log }, { docs: (name) => this.documents.get(name) ?? null })
    this.metrics.watch({
      peers: () => node.getPeers().length,
      topics: () => this.topics.topics().length,
      dhtRecords: () => countDhtRecords(storage.datastore),
      edgeLinkUp: () => (this.link?.state === 'open' ? 1 : 0),
      meshWaiting: () => this.topics.waiting().mesh,
      edgeWaiting: () => this.topics.waiting().edge,
      edgeJournaled: () => this.journal?.journaled ?? 0,
    })
    if (init.bootstrap.length > 0) {
      // libp2p's bootstrap discovery runs once at start; a bridge left alone (the bootstrap node was
      // down, the network was out) dials the list again until it has a peer.
      this.rejoin = setInterval(() => this.rejoinIfAlone(init.bootstrap), REJOIN_INTERVAL_MS)
      this.rejoin.unref()
    }
    const dialBelow = init.dialOnDiscoveryBelow ?? 50
    node.addEventListener('peer:discovery', (event) => {
      const { id } = event.detail
      if (this.stopped || node.getConnections(id).length > 0 || node.getConnections().length >= dialBelow) return
      node
        .dial(id)
        .catch((error: Error) =>
          this.log.debug('dial on discovery failed', { peer: id.toString(), error: error.message }),
        )
    })
  }

  private rejoinIfAlone(bootstrap: string[]): void {
    if (this.stopped || this.node.getConnections().length > 0) return
    for (const address of bootstrap) {
      this.node.dial(multiaddr(address)).catch((error: Error) => {
        this.log.debug('bootstrap dial failed', { address, error: error.message })
      })
    }
  }

  /** The libp2p peer id (the same key as the bridge's DID). */
  get peerId(): PeerId {
    return this.node.peerId
  }

  /** Where `/metrics` is served, or null. */
  get metricsUrl(): string | null {
    return this.metricsServer?.url ?? null
  }

  /** The multiaddrs peers can dial, with `/p2p/<peer id>`. */
  multiaddrs(): Multiaddr[] {
    return this.node.getMultiaddrs()
  }

  /** The named document this bridge keeps and serves over `/vivim/yjs-sync/1.0.0` (created on first use). */
  document(name: string): Y.Doc {
    let doc = this.documents.get(name)
    if (!doc) {
      doc = new Y.Doc()
      this.documents.set(name, doc)
    }
    return doc
  }

  /** Starts the edge link, the topics, document sync and, if asked, the metrics server. */
  async start(metrics: MetricsServerInit | null = null): Promise<void> {
    await this.yjs.start()
    this.topics.start()
    this.link?.start()
    if (metrics) this.metricsServer = await serveMetrics(this.metrics, metrics)
    this.log.info('bridge started', {
      peerId: this.peerId.toString(),
      did: this.storage.identity.did,
      multiaddrs: this.multiaddrs().map(String),
      metrics: this.metricsUrl,
    })
  }

  /** Closes the edge sockets, the node, the topic journal and the datastore, in that order. */
  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    if (this.rejoin) clearInterval(this.rejoin)
    await this.metricsServer?.close()
    await Promise.all([this.link?.stop(), this.topics.stop()])
    await this.yjs.stop().catch(() => {})
    await this.node.stop()
    // After the node: its connections closed cleanly, so what Gossipsub took has left the process.
    await this.journal?.close()
    await this.storage.close()
    this.log.info('bridge stopped', { peerId: this.peerId.toString() })
  }
}

/** Opens the storage and the topic journal, builds the node and starts everything. */
export async function createBridge(init: BridgeInit, components: BridgeComponents = {}): Promise<VivimBridge> {
  const storage = await openStorage({ dataDir: init.dataDir })
  let node: BridgeLibp2p
  let journal: TopicJournal
  try {
    journal = await TopicJournal.open(storage.persistent ? storage.datastore : null, components.log)
    node = await createBridgeNode(init, storage)
  } catch (error) {
    await storage.close()
    throw error
  }
  let bridge: VivimBridge
  try {
    bridge = new VivimBridge(node, storage, init, { journal, ...components })
  } catch (error) {
    // The node is already listening and the datastore open: a bridge that cannot be built must not keep them.
    await node.stop()
    await storage.close()
    throw error
  }
  try {
    await bridge.start(init.metrics ?? null)
  } catch (error) {
    await bridge.stop()
    throw error
  }
  return bridge
}
