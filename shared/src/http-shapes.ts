/**
 * The JSON shapes of the edge's HTTP answers for version history and
 * webhooks (`docs/protocol.md`, "Version history" and "Webhooks"), defined
 * once: the edge answers with them and the SDK reads them.
 *
 * @example
 * ```ts
 * import type { DocVersion, WebhookDelivery } from '@vivim/shared'
 * const { versions } = (await res.json()) as { versions: DocVersion[] }
 * ```
 */

/** Why the edge took a version of a document. */
export type VersionReason = 'compaction' | 'quiet' | 'named' | 'before-restore'

/** A version as listed. */
export interface DocVersion {
  readonly id: number
  /** When it was taken, ms since the epoch. */
  readonly at: number
  readonly reason: VersionReason
  readonly name: string | null
  /** The DIDs that wrote between the version before and this one (peers and unsigned writers are not named). */
  readonly authors: readonly string[]
  readonly bytes: number
}

/** What a webhook is told about: a document's changes, a circle's members, a topic's messages. */
export const WebhookEvents = ['doc.changed', 'circle.members', 'topic.message'] as const
export type WebhookEvent = (typeof WebhookEvents)[number]

/** A webhook's delivery state, as its owner lists it. */
export interface WebhookStatus {
  /** `active` (nothing failing), `retrying` (the oldest owed delivery failed and waits), `suspended`. */
  readonly state: 'active' | 'retrying' | 'suspended'
  readonly pending: number
  readonly nextAttemptAt: number | null
  readonly lastError: string | null
  readonly lastDeliveredAt: number | null
  readonly delivered: number
  readonly failed: number
  readonly dropped: number
  /** Why it was suspended, when it was. */
  readonly suspended: string | null
}

/** Where one delivery stands. */
export type DeliveryStatus = 'pending' | 'retrying' | 'delivered' | 'failed'

/** One delivery of a webhook. */
export interface WebhookDelivery {
  readonly id: string
  readonly seq: number
  readonly event: WebhookEvent
  readonly status: DeliveryStatus
  readonly attempts: number
  readonly createdAt: number
  /** When the next attempt goes (pending or retrying), ms since the epoch; null once finished. */
  readonly nextAttemptAt: number | null
  /** When it was delivered or given up. */
  readonly finishedAt: number | null
  /** The last attempt's HTTP status, or null if it got none. */
  readonly lastStatus: number | null
  readonly lastError: string | null
}
