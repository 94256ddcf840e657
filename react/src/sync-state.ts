/**
 * The sync state of a document, as a value that re-renders on change.
 */
import type { SyncState } from '@vivim/client'
import { useSyncExternalStore } from 'react'
import { useDocProvider } from './doc.ts'

/**
 * Where `docId` is in the sync state machine: `offline`, `connecting`,
 * `syncing`, `conflict`, `resolved` or `synced`.
 *
 * @example
 * ```tsx
 * const state = useSyncState('notes:n1')
 * return <span className={state}>{state === 'synced' ? 'saved' : 'saving…'}</span>
 * ```
 */
export function useSyncState(docId: string): SyncState {
  const { state } = useDocProvider(docId)
  const value = () => state.value
  return useSyncExternalStore((notify) => state.on(notify), value, value)
}
