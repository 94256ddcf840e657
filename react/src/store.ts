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

/** What a store read from the edge always has: whether a read is under way, and why the last failed. */
export interface ReadState {
  readonly loading: boolean
  readonly error: Error | null
}

/**
 * A state read from the edge, for `useSyncExternalStore`: read when the
 * first component subscribes and again on `refresh()`, the latest read
 * winning. `extras` are the state's functions, made once with the store's
 * own `refresh` and `set`, so each snapshot stays the same object until it
 * changes.
 */
export function readStore<S extends ReadState>(
  initial: Partial<S>,
  read: () => Promise<Partial<S>>,
  extras: (store: { refresh(): Promise<void>; set(next: Partial<S>): void }) => Partial<S>,
) {
  const listeners = new Set<() => void>()
  let state = { loading: true, error: null, ...initial } as S
  let reads = 0
  const set = (next: Partial<S>) => {
    state = { ...state, ...next }
    for (const listener of [...listeners]) listener()
  }
  const refresh = async (): Promise<void> => {
    const current = ++reads
    set({ loading: true } as Partial<S>)
    try {
      const value = await read()
      if (current === reads) set({ ...value, loading: false, error: null })
    } catch (error) {
      if (current === reads) set({ loading: false, error: error as Error } as Partial<S>)
    }
  }
  state = { ...state, ...extras({ refresh, set }) }
  let started = false
  return {
    subscribe(onChange: () => void): () => void {
      listeners.add(onChange)
      if (!started) {
        started = true
        void refresh()
      }
      return () => listeners.delete(onChange)
    },
    get: (): S => state,
  }
}
