/**
 * How federation's role objects hold their tables: each role is a store
 * class that owns its tables (`descriptor-cache.ts`, `nonce-ledger.ts`,
 * `rate-window.ts`, `link-table.ts`, `passed-revocations.ts`), and an object
 * makes a store's tables on its first write, so an object that is only ever
 * read (a topic no peer federates, a domain whose discovery was refused a
 * budget) holds no storage at all.
 *
 * The objects strangers can name (a cached discovery per domain, nonces per
 * signing key, a budget per address) extend `SelfSweepingObject`: every row
 * they keep lapses at its `until`, an alarm deletes lapsed rows, and an
 * object left with none deletes its storage, so names made up by others do
 * not pile up.
 */
import { DurableObject } from 'cloudflare:workers'

/** Whether `table` exists in this object's SQLite. */
function hasTable(sql: SqlStorage, table: string): boolean {
  return sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", table).toArray().length > 0
}

/** A store whose tables are made on its first write (its constructor makes them). */
export class LazyStore<S> {
  private readonly sql: SqlStorage
  private readonly make: (sql: SqlStorage) => S
  private store: S | null

  constructor(sql: SqlStorage, table: string, make: (sql: SqlStorage) => S) {
    this.sql = sql
    this.make = make
    this.store = hasTable(sql, table) ? make(sql) : null
  }

  /** The store while its tables exist; null when nothing was written here (or all of it was swept). */
  get reading(): S | null {
    return this.store
  }

  /** The store, its tables made first if they do not exist. */
  writing(): S {
    this.store ??= this.make(this.sql)
    return this.store
  }

  /** The object's storage was deleted: the next write makes the tables again. */
  forget(): void {
    this.store = null
  }
}

/** A store whose every row lapses at its `until`. */
export interface LapsingStore {
  /** Deletes the rows lapsed by `now`; when the next one lapses, or null once none is left. */
  sweep(now: number): number | null
}

/** Deletes `table`'s rows lapsed by `now` (each has an `until`); when the next one lapses, or null if none is left. */
export function sweepLapsed(sql: SqlStorage, table: string, now: number): number | null {
  sql.exec(`DELETE FROM ${table} WHERE until <= ?`, now)
  return sql.exec<{ at: number | null }>(`SELECT MIN(until) AS at FROM ${table}`).one().at
}

/** A Durable Object holding one lapsing store, which sweeps itself and deletes its storage once empty. */
export abstract class SelfSweepingObject<S extends LapsingStore> extends DurableObject<Env> {
  protected readonly store: LazyStore<S>

  constructor(ctx: DurableObjectState, env: Env, table: string, make: (sql: SqlStorage) => S) {
    super(ctx, env)
    this.store = new LazyStore(ctx.storage.sql, table, make)
  }

  /** Drops lapsed rows; an object left with none deletes its storage. */
  override async alarm(): Promise<void> {
    const next = this.store.reading?.sweep(Date.now()) ?? null
    if (next !== null) return this.ctx.storage.setAlarm(next)
    await this.ctx.storage.deleteAll()
    this.store.forget()
  }

  /** Makes sure a sweep runs by `at`, when a row just written lapses. */
  protected async sweepNoLaterThan(at: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm()
    if (current === null || current > at) await this.ctx.storage.setAlarm(at)
  }
}
