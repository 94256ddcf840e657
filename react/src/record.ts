/**
 * A signed record read from the edge, with a way to read it again.
 */
import type { VivimClient } from '@vivim/client'
import { useMemo, useSyncExternalStore } from 'react'
import { useClient } from './context.ts'
import { readStore } from './store.ts'

type ContentRecord = NonNullable<Awaited<ReturnType<VivimClient['records']['get']>>>

/**
 * What `useRecord` returns.
 *
 * @example
 * ```tsx
 * const { record, loading, error, refresh }: RecordState = useRecord(key)
 * ```
 */
export interface RecordState {
  /** The record, validated against its author's signature; null when the edge has none (or not yet). */
  readonly record: ContentRecord | null
  /** Whether a read is under way. */
  readonly loading: boolean
  /** Why the last read failed, if it did. */
  readonly error: Error | null
  /** Reads the record again (after a `put`, say); resolves when the new state is shown. */
  refresh(): Promise<void>
}

/**
 * The record stored at `key` (for example `/profile/<did>`), read when the
 * component mounts and again on `refresh()`.
 *
 * @example
 * ```tsx
 * const { record, loading, refresh } = useRecord(formatRecordKey({ kind: 'profile', owner: did }))
 * if (loading && !record) return <p>loading…</p>
 * return <p onClick={refresh}>{record ? new TextDecoder().decode(record.value) : 'no profile'}</p>
 * ```
 */
export function useRecord(key: string): RecordState {
  const client = useClient()
  const store = useMemo(
    () =>
      readStore<RecordState>(
        { record: null },
        async () => ({ record: await client.records.get(key) }),
        ({ refresh }) => ({ refresh }),
      ),
    [client, key],
  )
  return useSyncExternalStore(store.subscribe, store.get, store.get)
}
