/**
 * `@vivim/client`, the SDK for browsers and Node apps (in progress: key
 * storage first; documents, topics and records follow).
 *
 * @example
 * ```ts
 * import { IndexedDbKeyStore, loadOrCreateIdentity } from '@vivim/client'
 * const me = await loadOrCreateIdentity(new IndexedDbKeyStore())
 * console.log(me.did)
 * ```
 */
export { IndexedDbKeyStore } from './indexeddb-key-store.ts'
export { type KeyStore, loadOrCreateIdentity } from './key-store.ts'
