/**
 * Keys in the browser's IndexedDB (database `vivim-keys`), one entry per
 * identity name, so a reload keeps the same identity.
 *
 * @example
 * ```ts
 * const me = await loadOrCreateIdentity(new IndexedDbKeyStore('work'))
 * ```
 */
import type { KeyStore } from './key-store.ts'

const DB_NAME = 'vivim-keys'
const STORE = 'keys'

export class IndexedDbKeyStore implements KeyStore {
  private readonly name: string

  constructor(name = 'default') {
    this.name = name
  }

  async load(): Promise<string | null> {
    const db = await open()
    const value = await request<unknown>(db.transaction(STORE).objectStore(STORE).get(this.name))
    db.close()
    return typeof value === 'string' ? value : null
  }

  /** Stores the exported keys, replacing any before. */
  async save(exported: string): Promise<void> {
    const db = await open()
    const tx = db.transaction(STORE, 'readwrite')
    tx.objectStore(STORE).put(exported, this.name)
    await new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve()
      tx.onerror = () => reject(tx.error)
    })
    db.close()
  }
}

function open(): Promise<IDBDatabase> {
  const req = indexedDB.open(DB_NAME, 1)
  req.onupgradeneeded = () => req.result.createObjectStore(STORE)
  return request(req)
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error)
  })
}
