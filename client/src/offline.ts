/**
 * Offline first, in browsers: a document's state is kept in IndexedDB (by
 * `y-indexeddb`), so what is written while offline survives a reload and
 * goes to the edge on the next connection (the sync exchange sends whatever
 * the edge lacks). Node programs keep documents in memory unless they
 * persist them themselves.
 *
 * @example
 * ```ts
 * const local = await keepOffline('conversation:c1', doc) // resolves once the stored state is loaded
 * ```
 */
import { IndexeddbPersistence } from 'y-indexeddb'
import type * as Y from 'yjs'

/** Keeps `doc` in IndexedDB (database `vivim:<docId>`); resolves once what was stored is loaded into it. */
export async function keepOffline(docId: string, doc: Y.Doc): Promise<IndexeddbPersistence> {
  const persistence = new IndexeddbPersistence(`vivim:${docId}`, doc)
  await persistence.whenSynced
  return persistence
}
