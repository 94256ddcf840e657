/**
 * `@vivim/client`, the SDK for browsers and Node apps: documents kept in sync
 * through the edge, with a sync state machine and typed errors, or read,
 * written and deleted over HTTP without a socket; topics with
 * resume; the record registry, providers and search; and key storage.
 *
 * @example
 * ```ts
 * import * as Y from 'yjs'
 * import { VivimDocProvider } from '@vivim/client'
 * const doc = new Y.Doc()
 * const provider = new VivimDocProvider('ws://127.0.0.1:8787', 'conversation:c1', doc)
 * provider.state.on((state) => console.log(state)) // connecting, syncing, synced
 * ```
 *
 * @module @vivim/client
 */

export { type DocProviderInit, VivimDocProvider } from './doc-provider.ts'
export {
  type DocumentJson,
  type DocumentTarget,
  type DocumentWritten,
  deleteDocument,
  readDocument,
  readDocumentJson,
  readStateVector,
  writeDocument,
} from './docs-http.ts'
export { IndexedDbKeyStore } from './indexeddb-key-store.ts'
export { type KeyStore, loadOrCreateIdentity } from './key-store.ts'
export { keepOffline } from './offline.ts'
export { type Page, RecordsClient, type SearchHit } from './records-client.ts'
export { type SyncState, SyncStateMachine, SyncStates } from './sync-state.ts'
export { type SubscribeOptions, type TopicMessage, TopicSubscription } from './topic-client.ts'
export { type DocVersion, DocVersions, type VersionReason } from './versions.ts'
export { VivimClient, type VivimClientInit } from './vivim-client.ts'
export * from './webhooks.ts'
