/**
 * What tests wait with: `until(predicate)` resolves once the predicate holds,
 * checked again each time the source calls `notify()`, so a test waits for
 * what it means, never for a length of time. `SocketPeer` notifies after
 * every frame it receives and at its close; anything else that tells when it
 * changes (a Y.Doc's `update` event) can notify too.
 *
 * @example
 * ```ts
 * const updates = new Waiters()
 * doc.on('update', () => updates.notify())
 * await updates.until(() => doc.getArray('log').length === 2)
 * ```
 */
export class Waiters {
  private readonly checks = new Set<() => void>()

  /** Resolves once `predicate` holds. */
  until(predicate: () => boolean): Promise<void> {
    if (predicate()) return Promise.resolve()
    return new Promise((resolve) => {
      const check = () => {
        if (!predicate()) return
        this.checks.delete(check)
        resolve()
      }
      this.checks.add(check)
    })
  }

  /** Something happened: every waiter checks its predicate again. */
  notify(): void {
    for (const check of [...this.checks]) check()
  }
}
