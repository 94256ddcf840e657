/**
 * `@vivim/bridge`: a full libp2p peer of the VIVIM mesh (TCP,
 * WebSockets, Noise, Yamux, Kademlia DHT, Gossipsub, bootstrap, mDNS,
 * circuit relay) joined to an edge: topics forwarded both ways, records
 * mirrored between the edge's registry and the DHT, documents synced peer to
 * peer over `/vivim/yjs-sync/1.0.0`.
 *
 * @example
 * ```ts
 * import { createBridge } from '@vivim/bridge'
 *
 * const bridge = await createBridge({
 *   listen: ['/ip4/0.0.0.0/tcp/4001', '/ip4/0.0.0.0/tcp/4002/ws'],
 *   bootstrap: [],
 *   mdns: true,
 *   dataDir: './bridge-data',          // the peer id and DHT records survive restarts
 *   edgeUrl: 'http://127.0.0.1:8787',  // `npm start` serves one here
 *   topics: ['public:*'],
 * })
 * console.log(bridge.peerId.toString(), bridge.multiaddrs().map(String))
 *
 * const notes = bridge.document('notes')   // served to peers that sync 'notes'
 * notes.getText('body').insert(0, 'hello')
 *
 * process.on('SIGTERM', () => bridge.stop())
 * ```
 *
 * @module @vivim/bridge
 */
export { Backoff, type BackoffInit } from '@vivim/shared'
export { SeenIds, YjsSync, type YjsSyncComponents, type YjsSyncInit, YjsSyncSession } from '@vivim/shared/mesh'
export { type BridgeComponents, type BridgeInit, createBridge, VivimBridge } from './bridge.ts'
export { dhtKey, selectVivimRecord, validateVivimRecord, verifiedRecord } from './dht-records.ts'
export { countDhtRecords, localDhtValue } from './dht-store.ts'
export { EdgeCredentials, type EdgeCredentialsInit } from './edge-credentials.ts'
export { EdgeLink, type EdgeLinkComponents, type EdgeLinkInit } from './edge-link.ts'
export { EdgeSocket, type EdgeSocketInit, type EdgeSocketState } from './edge-socket.ts'
export { EdgeTopic, type EdgeTopicComponents, type EdgeTopicInit } from './edge-topic.ts'
export { createLogger, type Logger, type LoggerInit, silentLogger } from './log.ts'
export { BridgeMetrics, type MetricsServer, type MetricsServerInit, serveMetrics } from './metrics.ts'
export { type BridgeLibp2p, type BridgeNodeInit, type BridgeServices, createBridgeNode } from './node.ts'
export { parseOptions } from './options.ts'
export { RecordMirror, type RecordMirrorComponents, type RecordMirrorInit, recordKeyCid } from './record-mirror.ts'
export { type BridgeStorage, identityOf, openStorage, type StorageInit } from './storage.ts'
export { TopicBridge, type TopicBridgeComponents, type TopicBridgeInit, topicMatches } from './topic-bridge.ts'
export { envelopeIdOf, gossipMessageId } from './topic-ids.ts'
