/**
 * Revocations already passed on to peers, with their tokens: the
 * `passed_revocations` table, kept by the instance's hub (`FederationHub`,
 * the object named `hub`). A revocation that comes back round from a peer is
 * not sent out again, and a peer that lost its state is sent them all again
 * (`recovery.ts`). Kept for as long as the instance is: a revocation never
 * stops applying.
 *
 * @example
 * ```ts
 * const passed = new PassedRevocations(ctx.storage.sql)
 * if (!passed.has(id)) passed.mark(id, revocation, token, Date.now())
 * ```
 */

export class PassedRevocations {
  private readonly sql: SqlStorage

  constructor(sql: SqlStorage) {
    this.sql = sql
    sql.exec(`CREATE TABLE IF NOT EXISTS passed_revocations (id TEXT PRIMARY KEY, revocation BLOB NOT NULL,
        token BLOB NOT NULL, at INTEGER NOT NULL)`)
  }

  /** Whether a revocation was passed on already. */
  has(id: string): boolean {
    return this.sql.exec('SELECT 1 FROM passed_revocations WHERE id = ?', id).toArray().length > 0
  }

  /** Marks a revocation as passed on (once: marking it again changes nothing). */
  mark(id: string, revocation: Uint8Array, token: Uint8Array, now: number): void {
    this.sql.exec('INSERT OR IGNORE INTO passed_revocations VALUES (?, ?, ?, ?)', id, revocation, token, now)
  }

  /** Every revocation passed on, oldest first. */
  all(): { revocation: Uint8Array; token: Uint8Array }[] {
    return this.sql
      .exec<{ revocation: ArrayBuffer; token: ArrayBuffer }>(
        'SELECT revocation, token FROM passed_revocations ORDER BY at',
      )
      .toArray()
      .map((r) => ({ revocation: new Uint8Array(r.revocation), token: new Uint8Array(r.token) }))
  }

  /** How many revocations are held. */
  count(): number {
    return this.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM passed_revocations').one().n
  }
}
