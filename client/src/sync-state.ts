/**
 * The sync state machine of the design, as an observable value:
 *
 *   Offline → Connecting → Syncing → Synced
 *   Syncing → Conflict → Resolved → Synced   (concurrent changes were merged)
 *   Synced → Syncing                           (new local changes in flight)
 *   any → Offline                              (network lost, or refused)
 *
 * @example
 * ```ts
 * provider.state.on((state) => console.log(state)) // 'connecting', 'syncing', 'synced', …
 * ```
 */
export const SyncStates = ['offline', 'connecting', 'syncing', 'conflict', 'resolved', 'synced'] as const
/** One of `SyncStates`. */
export type SyncState = (typeof SyncStates)[number]

const ALLOWED: Record<SyncState, readonly SyncState[]> = {
  offline: ['connecting'],
  connecting: ['syncing', 'offline'],
  syncing: ['synced', 'conflict', 'offline'],
  conflict: ['resolved', 'offline'],
  resolved: ['synced', 'offline'],
  synced: ['syncing', 'offline'],
}

/** The sync state of a provider, with only the moves the diagram allows. */
export class SyncStateMachine {
  private current: SyncState = 'offline'
  private readonly listeners = new Set<(state: SyncState) => void>()

  /** The current state. */
  get value(): SyncState {
    return this.current
  }

  /** Moves to `next` if the diagram allows it from here; returns whether it moved. */
  to(next: SyncState): boolean {
    if (next === this.current || !ALLOWED[this.current].includes(next)) return false
    this.current = next
    for (const listener of [...this.listeners]) listener(next)
    return true
  }

  /** Calls `listener` on every change; returns a function that stops it. */
  on(listener: (state: SyncState) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }
}
