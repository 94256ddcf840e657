/**
 * `FederationInbox`, one Durable Object per sending instance (named by its
 * DID): applies that sender's transactions once each, in seq order. It keeps
 * a cursor (the last seq applied) and the ids applied recently; a known id or
 * a seq at or below the cursor is acknowledged as a duplicate and changes
 * nothing; a seq past cursor + 1 is not applied, and the receipt's cursor
 * tells the sender where to resume. A bad activity (one that can never apply)
 * is logged and skipped, so one bad message cannot stall everything behind it.
 * A `gap` moves the cursor past transactions the sender no longer holds;
 * `doc.part`s are kept until their update is complete (`doc-parts.ts`).
 *
 * @example
 * ```ts
 * const receipt = await env.FEDERATION_INBOX.getByName(peer.did).receive(peer, body) // { cursor: 7, duplicate: false }
 * ```
 */
import { DurableObject } from 'cloudflare:workers'
import { type Activity, ActivityType, decodeTransaction, type InboxReceipt, logLine, VivimError } from '@vivim/shared'
import { applyActivity } from './apply.ts'
import { DocPartStore } from './doc-parts.ts'
import type { Peer } from './signed-request.ts'

/** Applied ids kept past the cursor's move, so a late duplicate is still known by id. */
const KEEP_IDS = 10_000

export class FederationInbox extends DurableObject<Env> {
  private readonly sql: SqlStorage
  private readonly parts: DocPartStore
  private queue: Promise<unknown> = Promise.resolve()

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    this.sql = ctx.storage.sql
    this.sql.exec(`CREATE TABLE IF NOT EXISTS applied (id TEXT PRIMARY KEY, seq INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS applied_seq ON applied (seq);
      CREATE TABLE IF NOT EXISTS cursor (one INTEGER PRIMARY KEY CHECK (one = 1), seq INTEGER NOT NULL);`)
    this.parts = new DocPartStore(this.sql)
  }

  /** Applies a transaction (already decoded once and checked against its signer by the Worker). */
  receive(peer: Peer, bytes: Uint8Array): Promise<InboxReceipt> {
    // One at a time, in arrival order: an apply awaits other objects, and input gates do not cover that.
    const run = this.queue.then(() => this.applyOne(peer, bytes))
    this.queue = run.catch(() => {})
    return run
  }

  cursor(): number {
    return this.sql.exec<{ seq: number }>('SELECT seq FROM cursor').toArray()[0]?.seq ?? 0
  }

  private async applyOne(peer: Peer, bytes: Uint8Array): Promise<InboxReceipt> {
    const tx = decodeTransaction(bytes)
    const cursor = this.cursor()
    const known = this.sql.exec('SELECT 1 FROM applied WHERE id = ?', tx.id).toArray().length > 0
    if (known || tx.seq <= cursor) return { cursor, duplicate: true }
    if (tx.seq > cursor + 1) return { cursor, duplicate: false }
    // The sender holds nothing up to `after`: there is nothing to wait for.
    const next = tx.activity.t === ActivityType.Gap ? Math.max(tx.seq, tx.activity.after) : tx.seq
    try {
      await this.apply(peer, tx.activity)
    } catch (error) {
      if (!(error instanceof VivimError)) throw error
      logLine('warn', 'federated activity refused', {
        from: peer.domain,
        seq: tx.seq,
        t: tx.activity.t,
        code: error.code,
        error,
      })
    }
    this.sql.exec('INSERT OR IGNORE INTO applied (id, seq) VALUES (?, ?)', tx.id, next)
    this.sql.exec('INSERT OR REPLACE INTO cursor (one, seq) VALUES (1, ?)', next)
    this.sql.exec('DELETE FROM applied WHERE seq <= ?', next - KEEP_IDS)
    return { cursor: next, duplicate: false }
  }

  private async apply(peer: Peer, activity: Activity): Promise<void> {
    if (activity.t === ActivityType.Gap) return
    if (activity.t !== ActivityType.DocPart) return applyActivity(this.env, peer, activity)
    const update = this.parts.add(activity)
    if (update === null) return
    try {
      await applyActivity(this.env, peer, { t: ActivityType.DocUpdate, doc: activity.doc, update })
    } catch (error) {
      // Kept for a retry if it may pass; a bad update never will.
      if (error instanceof VivimError) this.parts.drop(activity.of)
      throw error
    }
    this.parts.drop(activity.of)
  }
}
