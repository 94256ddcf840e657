/**
 * The nonces of accepted signed requests, one object per sender's signing
 * key (`FederationNonces`), each kept until its request would be refused as
 * stale anyway, so a replayed request is refused (`signed-request.ts`).
 *
 * A class of its own, named by the key id, rather than rows in one object
 * for the instance: every inbound request writes a nonce, so senders do not
 * queue behind each other. The nonce is remembered before the sender's
 * descriptor is checked, so anyone can name one of these objects: each
 * sweeps itself with an alarm when its nonces lapse, and one left with none
 * deletes its storage.
 *
 * @example
 * ```ts
 * if (!(await nonceHub(env, keyid).firstUse(keyid, nonce, until))) throw replayed
 * ```
 */
import { type LapsingStore, SelfSweepingObject, sweepLapsed } from './role-storage.ts'

/** The `nonces` table: (key id, nonce) pairs, each until its request is stale. */
export class NonceLedger implements LapsingStore {
  private readonly sql: SqlStorage

  constructor(sql: SqlStorage) {
    this.sql = sql
    sql.exec(`CREATE TABLE IF NOT EXISTS nonces (keyid TEXT NOT NULL, nonce TEXT NOT NULL, until INTEGER NOT NULL,
        PRIMARY KEY (keyid, nonce));
      CREATE INDEX IF NOT EXISTS nonces_until ON nonces (until);`)
  }

  /**
   * Remembers a nonce; false if it is held already (a replay). Lapsed ones
   * go first: a request that old is refused as stale before it gets here.
   */
  firstUse(keyid: string, nonce: string, until: number, now: number): boolean {
    this.sql.exec('DELETE FROM nonces WHERE until <= ?', now)
    return this.sql.exec('INSERT OR IGNORE INTO nonces VALUES (?, ?, ?)', keyid, nonce, until).rowsWritten > 0
  }

  sweep(now: number): number | null {
    return sweepLapsed(this.sql, 'nonces', now)
  }
}

/** One signing key's nonces. */
export class FederationNonces extends SelfSweepingObject<NonceLedger> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env, 'nonces', (sql) => new NonceLedger(sql))
  }

  /** Remembers a request's nonce until `until`; false if it was seen before (a replay). */
  async firstUse(keyid: string, nonce: string, until: number): Promise<boolean> {
    if (!this.store.writing().firstUse(keyid, nonce, until, Date.now())) return false
    await this.sweepNoLaterThan(until)
    return true
  }
}

/**
 * Which of `NONCE_BUCKETS` objects remembers a nonce of one sender: every
 * signed request asks one, so a busy peer's requests spread over that many
 * objects, and a replayed nonce still reaches the object that saw it.
 */
const NONCE_BUCKETS = 16

function nonceBucket(nonce: string): number {
  let h = 0
  for (let i = 0; i < nonce.length; i++) h = (h * 31 + nonce.charCodeAt(i)) >>> 0
  return h % NONCE_BUCKETS
}

/**
 * The object that remembers a sender's nonce: named by the key id its
 * requests are signed with and, given the nonce, its bucket.
 */
export function nonceHub(env: Env, keyid: string, nonce = ''): DurableObjectStub<FederationNonces> {
  return env.FEDERATION_NONCES.getByName(nonce === '' ? keyid : `${keyid}#${nonceBucket(nonce)}`)
}
