/**
 * `@vivim/client/e2e`: end-to-end encryption for apps, kept out of the main
 * entry so apps that do not use it do not ship the cipher.
 *
 * @example
 * ```ts
 * import { VivimSealedDocProvider } from '@vivim/client/e2e'
 * import { createCircleKey, wrapCircleKey } from '@vivim/shared'
 * const key = createCircleKey('notes-1')            // share it with wrapCircleKey(key, memberDids)
 * const notes = new VivimSealedDocProvider('ws://127.0.0.1:8787', 'notes-1', new Y.Doc(), key.key)
 * ```
 *
 * @module @vivim/client/e2e
 */
export { type SealedDocProviderInit, VivimSealedDocProvider } from './sealed-doc-provider.ts'
