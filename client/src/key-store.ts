/**
 * Where the SDK keeps an identity's keys between runs. The stored form is
 * the key manager's export (`exportKeys` in `@vivim/shared`); a store only
 * decides where it lives: IndexedDB in browsers (`IndexedDbKeyStore`), a
 * file readable by its owner alone in Node (`FileKeyStore`, from
 * `@vivim/client/node`).
 *
 * @example
 * ```ts
 * const store = new IndexedDbKeyStore() // or, in Node, new FileKeyStore(path)
 * const alice = await loadOrCreateIdentity(store)
 * ```
 */
import { exportKeys, generateIdentity, type Identity, importKeys } from '@vivim/shared'

/** Where an identity's exported keys (`exportKeys`) are kept between runs. */
export interface KeyStore {
  /** The stored export, or null when there is none. */
  load(): Promise<string | null>
  /** Stores the exported keys, replacing any before. */
  save(exported: string): Promise<void>
}

/** The identity in `store`, created and saved on first use. */
export async function loadOrCreateIdentity(store: KeyStore): Promise<Identity> {
  const stored = await store.load()
  if (stored !== null) return importKeys(stored)
  const identity = generateIdentity()
  await store.save(exportKeys(identity))
  return identity
}
