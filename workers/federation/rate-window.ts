/**
 * Discovery budgets, one object per caller's address (`FederationRate`):
 * when the caller asked for discoveries lately, in a sliding window, so
 * discovery cannot be used to make this instance fetch without bound
 * (`discovery.ts`, `callerBudget`).
 *
 * A class of its own, named by the address, rather than rows in one object
 * for the instance: any address may spend a budget, so each sweeps itself
 * with an alarm once its window has passed, and one left with nothing
 * counted deletes its storage.
 *
 * @example
 * ```ts
 * if (!(await rateHub(env, '198.51.100.1').take(30, 60_000))) throw rateLimited()
 * ```
 */
import { type LapsingStore, SelfSweepingObject, sweepLapsed } from './role-storage.ts'

/** The `rate` table: when each counted request came (`at`), and when it leaves the window it was counted in. */
export class RateWindow implements LapsingStore {
  private readonly sql: SqlStorage

  constructor(sql: SqlStorage) {
    this.sql = sql
    sql.exec('CREATE TABLE IF NOT EXISTS rate (at INTEGER NOT NULL, until INTEGER NOT NULL)')
  }

  /**
   * Counts one request if fewer than `max` were counted in the last
   * `windowMs` (a sliding window, so no burst at a window's edge); false
   * when the caller is over the limit, and then nothing is counted.
   */
  take(max: number, windowMs: number, now: number): boolean {
    this.sql.exec('DELETE FROM rate WHERE at <= ?', now - windowMs)
    if (this.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM rate').one().n >= max) return false
    this.sql.exec('INSERT INTO rate VALUES (?, ?)', now, now + windowMs)
    return true
  }

  sweep(now: number): number | null {
    return sweepLapsed(this.sql, 'rate', now)
  }
}

/** One caller's discovery budget. */
export class FederationRate extends SelfSweepingObject<RateWindow> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env, 'rate', (sql) => new RateWindow(sql))
  }

  /** Takes one request from the caller's budget of `max` per `windowMs`; false when none is left (nothing taken). */
  async take(max: number, windowMs: number): Promise<boolean> {
    const now = Date.now()
    if (!this.store.writing().take(max, windowMs, now)) return false
    await this.sweepNoLaterThan(now + windowMs)
    return true
  }
}

/** The object that counts one caller's discoveries (by its address, as the edge sees it). */
export function rateHub(env: Env, caller: string): DurableObjectStub<FederationRate> {
  return env.FEDERATION_RATE.getByName(caller)
}
