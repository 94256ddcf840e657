/**
 * A document's version history in React: the versions the edge keeps, read
 * when the component mounts and again after each save or restore, with a
 * way to preview one and to restore it.
 */
import type { DocVersion } from '@vivim/client'
import { useMemo, useSyncExternalStore } from 'react'
import type * as Y from 'yjs'
import { useClient } from './context.ts'
import { readStore } from './store.ts'

/**
 * What `useVersions` returns.
 *
 * @example
 * ```tsx
 * const { versions, loading, save, restore, preview }: VersionsState = useVersions('notes:n1')
 * ```
 */
export interface VersionsState {
  /** The versions kept, newest first. */
  readonly versions: readonly DocVersion[]
  /** Whether a read is under way. */
  readonly loading: boolean
  /** Why the last call failed, if it did. */
  readonly error: Error | null
  /** Reads the list again. */
  refresh(): Promise<void>
  /** A version as a document of its own (not connected: changing it changes nothing else). */
  preview(id: number): Promise<Y.Doc>
  /** Names the document as it is now. */
  save(name: string): Promise<void>
  /** Restores a version as a new change every client receives (the owner or an admin). */
  restore(id: number): Promise<void>
}

/**
 * The version history of `docId`.
 *
 * @example
 * ```tsx
 * function History({ docId }: { docId: string }) {
 *   const { versions, save, restore } = useVersions(docId)
 *   return (
 *     <ul>
 *       <li><button onClick={() => save('checkpoint')}>save</button></li>
 *       {versions.map((v) => (
 *         <li key={v.id}>
 *           {v.name ?? v.reason} by {v.authors.join(', ')} <button onClick={() => restore(v.id)}>restore</button>
 *         </li>
 *       ))}
 *     </ul>
 *   )
 * }
 * ```
 */
export function useVersions(docId: string): VersionsState {
  const client = useClient()
  const store = useMemo(() => {
    const history = client.versions(docId)
    return readStore<VersionsState>(
      { versions: [] },
      async () => ({ versions: await history.list() }),
      ({ refresh, set }) => {
        /** Runs `act`, then reads the list again; a failure is kept in `error` and thrown. */
        const then = async (act: () => Promise<unknown>): Promise<void> => {
          try {
            await act()
          } catch (error) {
            set({ error: error as Error })
            throw error
          }
          await refresh()
        }
        return {
          refresh,
          preview: (id) => history.preview(id),
          save: (name) => then(() => history.save(name)),
          restore: (id) => then(() => history.restore(id)),
        }
      },
    )
  }, [client, docId])
  return useSyncExternalStore(store.subscribe, store.get, store.get)
}
