/**
 * Who may manage a resource's webhooks, and how a webhook is shown. Only the
 * resource's owner, or a chain granting `admin` on it, may: a webhook sends
 * what happens in the resource to a URL of the subscriber's choosing, which
 * is the owner's decision, and a URL may hold secrets a reader must not see.
 * The owner is the one its room (or, for a circle's or conversation's topic,
 * its document's room) knows; a resource nobody owns has no webhooks.
 *
 * @example
 * ```ts
 * const owner = await ownerOfResource(c.req.raw, c.env, 'doc:notes:n1') // the chain's root DID; throws forbidden
 * ```
 */
import { type Capability, capabilityChain, decodeCapabilityText, ErrorCode, VivimError } from '@vivim/shared'
import { governingDoc } from '../auth/resource-owner.ts'
import { authorize, credentialOf } from '../http/access.ts'
import type { QueueStatus } from './delivery-queue.ts'
import { docOf, type SubscriptionConfig } from './subscription.ts'

/** A webhook as the routes answer it. */
export interface WebhookView {
  readonly id: string
  readonly resource: string
  readonly event: SubscriptionConfig['event']
  readonly url: string
  /** Documents only: the debounce and the longest wait (null for a topic). */
  readonly debounceMs: number | null
  readonly maxWaitMs: number | null
  readonly createdAt: number
  readonly status: QueueStatus
}

export function webhookView(config: SubscriptionConfig, status: QueueStatus): WebhookView {
  const doc = docOf(config.resource) !== null
  return {
    id: config.id,
    resource: config.resource,
    event: config.event,
    url: config.url,
    debounceMs: doc ? config.debounceMs : null,
    maxWaitMs: doc ? config.maxWaitMs : null,
    createdAt: config.createdAt,
    status,
  }
}

/**
 * Checks that the request's credential may manage `resource`'s webhooks
 * (the owner or `admin`); returns the owner the subscription counts against:
 * the DID at the root of its chain, or null in development without a token.
 */
export async function ownerOfResource(request: Request, env: Env, resource: string): Promise<string | null> {
  const access = await authorize(request, env, resource, { roomOwner: roomOwnerOf(env, resource) })
  if (!access.canAdmin) {
    throw new VivimError(ErrorCode.Forbidden, `webhooks of ${resource} are managed by its owner or an admin grant`)
  }
  const token = credentialOf(request)
  if (access.did === null || token === null) return null
  return (capabilityChain(decodeCapabilityText(token)).at(-1) as Capability).iss
}

function roomOwnerOf(env: Env, resource: string): () => Promise<string | null> {
  const docId = docOf(resource)
  if (docId !== null) return () => env.DOC_ROOM.getByName(docId).owner()
  const governing = governingDoc(resource)
  if (governing !== null) return () => env.DOC_ROOM.getByName(governing).owner()
  const topic = resource.slice('topic:'.length)
  return () => env.TOPIC_ROOM.getByName(topic).owner()
}
