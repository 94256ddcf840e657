/**
 * What a webhook subscription is, its bounds, and how a request to create
 * one is read (`docs/protocol.md`, Webhooks). A subscription names one
 * resource (`doc:<docId>` or `topic:<topic>`, as capabilities name them),
 * one event, an https URL and, for documents, its debounce.
 *
 * Every bound is here: they are what keeps one owner (any user who owns a
 * document or topic can subscribe it) from making the edge hammer a third
 * party or hold unbounded state.
 *
 * @example
 * ```ts
 * const init = parseCreate(await c.req.json()) // throws bad_request
 * init.event // 'doc.changed' for a document unless asked otherwise
 * ```
 */
import { base64urlnopad } from '@scure/base'
import { ErrorCode, parseDocId, parseTopic, VivimError, type WebhookEvent, WebhookEvents } from '@vivim/shared'

export { type WebhookEvent, WebhookEvents }

export const WEBHOOK_LIMITS = {
  /** Subscriptions one owner (the root of the credential's chain) holds, over all its resources. */
  perOwner: 32,
  /** Subscriptions of one resource. */
  perResource: 16,
  /** Deliveries one subscription holds undelivered; past it, events are counted as dropped. */
  queued: 100,
  /** Finished deliveries a subscription lists. */
  history: 50,
  /** Attempts of one delivery before it is given up. */
  attempts: 10,
  /** Deliveries given up in a row that suspend a subscription (a URL that never takes them). */
  suspendAfter: 3,
  /** The largest body of one delivery. */
  bodyBytes: 128 * 1024,
  /** How long a receiver has to answer one attempt. */
  timeoutMs: 10_000,
  urlLength: 2048,
  debounceMs: { min: 100, max: 600_000, default: 2_000 },
  maxWaitMs: { min: 100, max: 3_600_000, default: 60_000 },
} as const

/** What the owner asked for. */
export interface CreateInit {
  readonly resource: string
  readonly url: string
  readonly event: WebhookEvent
  readonly debounceMs: number
  readonly maxWaitMs: number
}

/** A subscription as its delivery queue keeps it. */
export interface SubscriptionConfig extends CreateInit {
  readonly id: string
  /** The owner it counts against: the DID at the root of the creating credential (null: development, no token). */
  readonly owner: string | null
  /** `Vivim-Origin` of its deliveries: this edge's domain. */
  readonly origin: string
  readonly createdAt: number
}

/** A new subscription or delivery id: 16 random bytes, base64url (22 characters). */
export function newId(): string {
  return base64urlnopad.encode(crypto.getRandomValues(new Uint8Array(16)))
}

/** Whether `id` has the shape of a subscription id (checked before any object is named by it). */
export function isSubscriptionId(id: string): boolean {
  return /^[A-Za-z0-9_-]{22}$/.test(id)
}

/** The document id of a `doc:` resource, or null for a topic. */
export function docOf(resource: string): string | null {
  return resource.startsWith('doc:') ? resource.slice(4) : null
}

/** Checks a resource name: `doc:<docId>` or `topic:<topic>`, exactly one resource (no `*`). */
export function parseResource(resource: unknown): string {
  if (typeof resource !== 'string') throw bad('resource is doc:<docId> or topic:<topic>')
  if (resource.startsWith('doc:')) parseDocId(resource.slice(4))
  else if (resource.startsWith('topic:')) parseTopic(resource.slice(6))
  else throw bad('resource is doc:<docId> or topic:<topic>')
  return resource
}

/** The events a resource can have, the first its default. */
export function eventsOf(resource: string): readonly WebhookEvent[] {
  const doc = docOf(resource)
  if (doc === null) return ['topic.message']
  return doc.startsWith('circle:') ? ['doc.changed', 'circle.members'] : ['doc.changed']
}

/** Reads `{ resource, url, event?, debounceMs?, maxWaitMs? }`; the URL is checked apart (`target-url.ts`). */
export function parseCreate(body: unknown): CreateInit {
  if (typeof body !== 'object' || body === null) throw bad('the body is a JSON object')
  const b = body as Record<string, unknown>
  const resource = parseResource(b.resource)
  if (typeof b.url !== 'string') throw bad('url is a string')
  const allowed = eventsOf(resource)
  const event = b.event ?? allowed[0]
  if (!allowed.includes(event as WebhookEvent)) throw bad(`event is one of ${allowed.join(', ')} for ${resource}`)
  return {
    resource,
    url: b.url,
    event: event as WebhookEvent,
    debounceMs: duration(b.debounceMs, 'debounceMs', WEBHOOK_LIMITS.debounceMs),
    maxWaitMs: duration(b.maxWaitMs, 'maxWaitMs', WEBHOOK_LIMITS.maxWaitMs),
  }
}

function duration(value: unknown, name: string, range: { min: number; max: number; default: number }): number {
  if (value === undefined) return range.default
  if (!Number.isSafeInteger(value) || (value as number) < range.min || (value as number) > range.max) {
    throw bad(`${name} is a whole number of ms from ${range.min} to ${range.max}`)
  }
  return value as number
}

function bad(message: string): VivimError {
  return new VivimError(ErrorCode.BadRequest, message)
}
