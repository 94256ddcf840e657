/**
 * Documents: one `VivimDocProvider` per client and document id, shared by
 * every component that names it and destroyed when the last one unmounts.
 */
import type { VivimClient, VivimDocProvider } from '@vivim/client'
import { useEffect, useRef } from 'react'
import type * as Y from 'yjs'
import { useClient } from './context.ts'
import { useDerived } from './store.ts'

interface Entry {
  provider: VivimDocProvider
  users: number
}

const open = new WeakMap<VivimClient, Map<string, Entry>>()

function entryFor(client: VivimClient, docId: string): Entry {
  let docs = open.get(client)
  if (docs === undefined) {
    docs = new Map()
    open.set(client, docs)
  }
  let entry = docs.get(docId)
  if (entry === undefined) {
    entry = { provider: client.document(docId), users: 0 }
    docs.set(docId, entry)
  }
  return entry
}

function release(client: VivimClient, docId: string, entry: Entry): void {
  entry.users--
  // Later, so that a remount in the same commit (StrictMode, a moved component) keeps the connection.
  setTimeout(() => {
    const docs = open.get(client)
    if (entry.users > 0 || docs?.get(docId) !== entry) return
    docs.delete(docId)
    entry.provider.destroy()
  }, 0)
}

/**
 * The `VivimDocProvider` that keeps `docId` in sync (its `doc`, `awareness`,
 * `state` and events), opened on first use.
 *
 * @example
 * ```tsx
 * const provider = useDocProvider('notes:n1')
 * return <button onClick={() => provider.disconnect()}>go offline</button>
 * ```
 */
export function useDocProvider(docId: string): VivimDocProvider {
  const client = useClient()
  const { provider } = entryFor(client, docId)
  useEffect(() => {
    const entry = entryFor(client, docId)
    entry.users++
    return () => release(client, docId, entry)
  }, [client, docId])
  return provider
}

/**
 * The `Y.Doc` of `docId`, kept in sync through the edge. Changing it does
 * not re-render: read what you show with `useDocData`.
 *
 * @example
 * ```tsx
 * const doc = useDoc('notes:n1')
 * const add = (text: string) => doc.getArray('messages').push([text])
 * ```
 */
export function useDoc(docId: string): Y.Doc {
  return useDocProvider(docId).doc
}

/**
 * What `select` reads from the document `docId`, read again after every
 * change to it (local or remote). Return plain values (`toJSON()`), not
 * live Yjs types.
 *
 * @example
 * ```tsx
 * const messages = useDocData('notes:n1', (doc) => doc.getArray<string>('messages').toArray())
 * return <ul>{messages.map((m, i) => <li key={i}>{m}</li>)}</ul>
 * ```
 */
export function useDocData<T>(docId: string, select: (doc: Y.Doc) => T): T {
  const provider = useDocProvider(docId)
  const latest = useRef(select)
  latest.current = select
  return useDerived(
    provider.doc,
    (notify) => {
      provider.doc.on('update', notify)
      return () => provider.doc.off('update', notify)
    },
    () => latest.current(provider.doc),
  )
}
