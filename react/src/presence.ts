/**
 * Presence (Yjs awareness) on a document: this tab's own state, and everyone
 * else's, like `useMyPresence` and `useOthers` elsewhere.
 */
import { useCallback } from 'react'
import { useDocProvider } from './doc.ts'
import { useDerived } from './store.ts'

/**
 * Another connection's presence on the document.
 *
 * @example
 * ```tsx
 * const others: readonly Other<{ name: string }>[] = useOthers('notes:n1')
 * others.map((o) => <li key={o.clientId}>{o.presence.name}</li>)
 * ```
 */
export interface Other<P> {
  /** Its Yjs client id, stable while it stays connected. */
  readonly clientId: number
  readonly presence: P
}

/**
 * This tab's presence on `docId` and a function that merges fields into it;
 * everyone on the document sees it (`useOthers`) until this tab leaves.
 *
 * @example
 * ```tsx
 * const [me, setMe] = usePresence<{ name: string; cursor?: number }>('notes:n1')
 * return <input value={me?.name ?? ''} onChange={(e) => setMe({ name: e.target.value })} />
 * ```
 */
export function usePresence<P extends Record<string, unknown>>(
  docId: string,
): [P | null, (update: Partial<P>) => void] {
  const { awareness } = useDocProvider(docId)
  const mine = useDerived(
    awareness,
    (notify) => {
      awareness.on('change', notify)
      return () => awareness.off('change', notify)
    },
    () => awareness.getLocalState() as P | null,
  )
  const update = useCallback(
    (fields: Partial<P>) => awareness.setLocalState({ ...awareness.getLocalState(), ...fields }),
    [awareness],
  )
  return [mine, update]
}

/**
 * The presence of everyone else on `docId` who has set one, re-rendering as
 * they come, change and leave.
 *
 * @example
 * ```tsx
 * const others = useOthers<{ name: string }>('notes:n1')
 * return <p>{others.map((o) => o.presence.name).join(', ')} also here</p>
 * ```
 */
export function useOthers<P>(docId: string): readonly Other<P>[] {
  const { awareness } = useDocProvider(docId)
  return useDerived(
    awareness,
    (notify) => {
      awareness.on('change', notify)
      return () => awareness.off('change', notify)
    },
    () => {
      const others: Other<P>[] = []
      for (const [clientId, presence] of awareness.getStates()) {
        if (clientId !== awareness.clientID && Object.keys(presence).length > 0) {
          others.push({ clientId, presence: presence as P })
        }
      }
      return others
    },
  )
}
