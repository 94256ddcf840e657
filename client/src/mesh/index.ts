/**
 * `@vivim/client/mesh`: the browser as a peer of the VIVIM mesh (js-libp2p:
 * WebSockets and WebRTC-direct to bridges, a circuit-relay client, WebRTC
 * between browsers, Noise, Yamux, Gossipsub, Kademlia in client mode). Its
 * own entry point: apps that do not import it do not ship libp2p, and its
 * packages are optional peer dependencies of `@vivim/client`.
 *
 * Turn it on when peers that are online together should reach each other
 * without a round trip through the edge (live cursors, a busy chat, a LAN
 * with a slow uplink); the edge keeps the durable copy either way.
 *
 * @example
 * ```ts
 * import * as Y from 'yjs'
 * import { generateIdentity } from '@vivim/shared'
 * import { VivimClient } from '@vivim/client'
 * import { MeshPeer } from '@vivim/client/mesh'
 *
 * const identity = generateIdentity()
 * const client = new VivimClient({ edge: 'https://edge.example', identity })
 * const peer = await MeshPeer.start(
 *   { bridges: ['/dns4/bridge.example/tcp/443/wss/p2p/12D3KooW…'] },
 *   { identity, edge: client },
 * )
 * const doc = new Y.Doc()
 * peer.docs.join('notes:n1', doc) // synced with every peer that joined it too
 * peer.topics.subscribe('public:chat:lobby', (m) => console.log(m.via, m.author, m.text()))
 * await peer.topics.publish('public:chat:lobby', 'hello') // one envelope, to the mesh and the edge
 * peer.onPath((other, path) => console.log(other, path)) // 'webrtc', or 'relay' when the upgrade failed
 * ```
 *
 * @module @vivim/client/mesh
 */
export { type MeshDoc, MeshDocs, type MeshDocsComponents } from './mesh-docs.ts'
export {
  type EdgeTopics,
  type MeshTopicMessage,
  MeshTopics,
  type MeshTopicsComponents,
  type MeshTopicsInit,
} from './mesh-topics.ts'
export { createMeshNode, type MeshLibp2p, type MeshPeerInit, type MeshServices } from './node.ts'
export { bestConnection, type MeshPath, MeshPaths, pathOf } from './paths.ts'
export { MeshPeer, type MeshPeerComponents } from './peer.ts'
export { announce, findPeers, rendezvousKey } from './rendezvous.ts'
