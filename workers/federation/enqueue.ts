/**
 * How the rest of federation hands an activity to a destination: through
 * its outbox (`outbox.ts`), which stores it before this resolves. Sizes are
 * settled here, before anything is stored, so the outbox never holds a
 * transaction the receiver could not take.
 *
 * @example
 * ```ts
 * await enqueue(env, 'b.example', { t: ActivityType.TopicSubscribe, topic: 'circle:messages:c1' })
 * ```
 */
import {
  type Activity,
  ActivityType,
  ErrorCode,
  encodeActivity,
  Limits,
  splitDocUpdate,
  VivimError,
} from '@vivim/shared'
import { laneOf, outboxName } from './lanes.ts'

/** Room in a transaction for everything but its activity (ids, DIDs, seq, time). */
const TRANSACTION_OVERHEAD = 512

/**
 * Hands an activity to the destination's outbox of its lane (`lanes.ts`); resolves once it is stored
 * there. A document update too large for one transaction is stored as the
 * several `doc.update`s or `doc.part`s that carry it (`splitDocUpdate`).
 */
export async function enqueue(env: Env, domain: string, activity: Activity): Promise<void> {
  const activities = activity.t === ActivityType.DocUpdate ? splitDocUpdate(activity.doc, activity.update) : [activity]
  const encoded = activities.map(encodeActivity)
  for (const bytes of encoded) {
    // Refused here, not at the receiver: one transaction it can never take would stall every one behind it.
    if (bytes.length > Limits.maxFederationTransactionBytes - TRANSACTION_OVERHEAD) {
      throw new VivimError(
        ErrorCode.PayloadTooLarge,
        `a ${activity.t} of ${bytes.length} bytes does not fit a transaction`,
      )
    }
  }
  const lane = laneOf(activity)
  await env.FEDERATION_OUTBOX.getByName(outboxName(domain, lane)).enqueue(domain, encoded, lane)
}
