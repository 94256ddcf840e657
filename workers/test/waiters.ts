/**
 * What every test peer waits with: `until(predicate)` resolves once the
 * predicate holds, checked again each time the peer calls `notify()` (after
 * every frame it receives and when its socket closes), so a test waits for
 * what it means, never for a length of time.
 *
 * @example
 * ```ts
 * private readonly waiters = new Waiters()
 * ws.addEventListener('message', (event) => { this.frames.push(event.data); this.waiters.notify() })
 * await this.waiters.until(() => this.frames.length === 2)
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
