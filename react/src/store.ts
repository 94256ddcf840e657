/**
 * A value derived from an event source, cached between events so that
 * `useSyncExternalStore` sees the same snapshot until something changed.
 * The store is made anew when `source` (a document, an awareness) changes.
 */
import { useMemo, useSyncExternalStore } from 'react'

export function useDerived<T>(source: object, listen: (notify: () => void) => () => void, compute: () => T): T {
  // biome-ignore lint/correctness/useExhaustiveDependencies: listen and compute read only \`source\` (and refs)
  const store = useMemo(() => {
    let value = compute()
    return {
      subscribe(onChange: () => void): () => void {
        const stop = listen(() => {
          value = compute()
          onChange()
        })
        // Anything that changed between the render and this subscription: React compares after subscribing.
        value = compute()
        return stop
      },
      get: (): T => value,
    }
  }, [source])
  return useSyncExternalStore(store.subscribe, store.get, store.get)
}
