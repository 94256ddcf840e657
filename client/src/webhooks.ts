/**
 * Webhooks over HTTP (`docs/protocol.md`, Webhooks): the owner of a document
 * or topic (or a holder of an `admin` grant on it) subscribes a URL to its
 * changes, lists its webhooks with their delivery status, reads each one's
 * recent deliveries, and deletes them. The credential must cover the
 * resource: a token for `doc:notes:n1` manages that document's webhooks.
 * Deliveries are signed by the edge; the protocol page says how a receiver
 * checks them.
 *
 * @example
 * ```ts
 * const hooks = new Webhooks('https://edge.example', ownerToken)
 * const hook = await hooks.create({ resource: 'doc:notes:n1', url: 'https://app.example/hooks/vivim' })
 * const [listed] = await hooks.list('doc:notes:n1') // listed.status.state: 'active' | 'retrying' | 'suspended'
 * await hooks.deliveries(hook.id)                  // newest first, each with its status
 * await hooks.delete(hook.id)
 * ```
 */
import { ErrorCode, VivimError, type WebhookDelivery, type WebhookEvent, type WebhookStatus } from '@vivim/shared'
import { request, type TokenSource } from './http.ts'

export type { WebhookDelivery, WebhookEvent, WebhookStatus } from '@vivim/shared'

/** What to subscribe. */
export interface WebhookInit {
  /** `doc:<docId>` or `topic:<topic>`. */
  readonly resource: string
  /** Where deliveries are posted: https, on a public address (outside development). */
  readonly url: string
  /** By default `doc.changed` for a document, `topic.message` for a topic. */
  readonly event?: WebhookEvent
  /** Documents: a delivery waits this long after the last change (100 to 600,000 ms; 2,000 by default). */
  readonly debounceMs?: number
  /** Documents: and no longer than this after the first (100 to 3,600,000 ms; 60,000 by default). */
  readonly maxWaitMs?: number
}

/** A webhook as the edge lists it. */
export interface Webhook {
  readonly id: string
  readonly resource: string
  readonly event: WebhookEvent
  readonly url: string
  readonly debounceMs: number | null
  readonly maxWaitMs: number | null
  readonly createdAt: number
  readonly status: WebhookStatus
}

/** A resource owner's webhooks, managed over HTTP. */
export class Webhooks {
  private readonly base: string
  private readonly token: TokenSource | undefined

  /** `edgeHttpUrl` is the edge's `http(s)://` origin; `token` a credential covering the resources managed. */
  constructor(edgeHttpUrl: string, token?: TokenSource) {
    this.base = `${edgeHttpUrl.replace(/\/$/, '')}/v1/webhooks`
    this.token = token
  }

  /** Subscribes; refused unless the credential is the resource's owner's or grants `admin`. */
  async create(init: WebhookInit): Promise<Webhook> {
    const post = { method: 'POST', body: JSON.stringify(init), headers: { 'content-type': 'application/json' } }
    const res = await request(this.base, post, this.token)
    return ((await (await this.found(res)).json()) as { webhook: Webhook }).webhook
  }

  /** The resource's webhooks, each with its status. */
  async list(resource: string): Promise<Webhook[]> {
    const res = await request(`${this.base}?resource=${encodeURIComponent(resource)}`, {}, this.token)
    return ((await (await this.found(res)).json()) as { webhooks: Webhook[] }).webhooks
  }

  /** One webhook and its status. */
  async get(id: string): Promise<Webhook> {
    const res = await request(`${this.base}/${encodeURIComponent(id)}`, {}, this.token)
    return ((await (await this.found(res)).json()) as { webhook: Webhook }).webhook
  }

  /** The deliveries still owed and the last finished ones, newest first. */
  async deliveries(id: string): Promise<WebhookDelivery[]> {
    const res = await request(`${this.base}/${encodeURIComponent(id)}/deliveries`, {}, this.token)
    return ((await (await this.found(res)).json()) as { deliveries: WebhookDelivery[] }).deliveries
  }

  /** Deletes the webhook and every delivery it still owed. */
  async delete(id: string): Promise<void> {
    await this.found(await request(`${this.base}/${encodeURIComponent(id)}`, { method: 'DELETE' }, this.token))
  }

  /** `request` lets a 404 through (a missing record is an answer there); here it is an error. */
  private async found(res: Response): Promise<Response> {
    if (res.status !== 404) return res
    const body = (await res.json().catch(() => null)) as { error?: { message?: string } } | null
    throw new VivimError(ErrorCode.NotFound, body?.error?.message ?? 'no such webhook')
  }
}
