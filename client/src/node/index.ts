/**
 * `@vivim/client/node`: the parts of the SDK that only run on Node.
 *
 * @example
 * ```ts
 * import { loadOrCreateIdentity } from '@vivim/client'
 * import { FileKeyStore } from '@vivim/client/node'
 * const me = await loadOrCreateIdentity(new FileKeyStore('./.vivim/keys.json'))
 * console.log(me.did)
 * ```
 *
 * @module @vivim/client/node
 */
export { FileKeyStore } from './file-key-store.ts'
