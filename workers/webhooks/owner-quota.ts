/**
 * `WebhookOwner`, one Durable Object per owner (named `owner:<did>`, the DID
 * at the root of the credentials that created the subscriptions; in
 * development without a token, `owner:development`): the ids and resources
 * of its subscriptions, at most `WEBHOOK_LIMITS.perOwner`. Asked only when
 * a subscription is made or removed, never on an event's path; its storage
 * goes with its last subscription.
 *
 * Everything an owner can make the edge hold is bounded from here: at most
 * 32 subscriptions, each with at most 100 deliveries owed of at most
 * 128 KiB, and a subscription suspended after its URL refused three
 * deliveries in a row.
 *
 * @example
 * ```ts
 * const quota = env.WEBHOOK_OWNER.getByName(ownerName(did))
 * unwrap(await quota.reserve(id, 'doc:notes:n1')) // rate_limited past the bound
 * ```
 */
import { DurableObject } from 'cloudflare:workers'
import { ErrorCode, type Settled, settle, VivimError } from '@vivim/shared'
import { WEBHOOK_LIMITS } from './subscription.ts'

/** The quota object of `owner` (a DID, or null for development without a token). */
export function ownerName(owner: string | null): string {
  return `owner:${owner ?? 'development'}`
}

export class WebhookOwner extends DurableObject<Env> {
  private made: boolean

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    this.made =
      ctx.storage.sql.exec(`SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'subs'`).toArray().length > 0
  }

  /** Counts subscription `id` against the owner; refused once it holds the most it may. */
  reserve(id: string, resource: string): Promise<Settled<null>> {
    return settle(() => {
      if (!this.made) {
        this.ctx.storage.sql.exec('CREATE TABLE IF NOT EXISTS subs (id TEXT PRIMARY KEY, resource TEXT NOT NULL)')
        this.made = true
      }
      if (this.count() >= WEBHOOK_LIMITS.perOwner) {
        throw new VivimError(ErrorCode.RateLimited, `an owner holds at most ${WEBHOOK_LIMITS.perOwner} webhooks`)
      }
      this.ctx.storage.sql.exec('INSERT OR IGNORE INTO subs (id, resource) VALUES (?, ?)', id, resource)
      return null
    })
  }

  /** Releases `id`; the storage goes with the last one. */
  async release(id: string): Promise<void> {
    if (!this.made) return
    this.ctx.storage.sql.exec('DELETE FROM subs WHERE id = ?', id)
    if (this.count() > 0) return
    await this.ctx.storage.deleteAll()
    this.made = false
  }

  /** The owner's subscriptions: id and resource. */
  list(): { id: string; resource: string }[] {
    if (!this.made) return []
    return this.ctx.storage.sql
      .exec<{ id: string; resource: string }>('SELECT id, resource FROM subs ORDER BY id')
      .toArray()
  }

  private count(): number {
    return this.ctx.storage.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM subs').one().n
  }
}
