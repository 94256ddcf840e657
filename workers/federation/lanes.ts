/**
 * Federation's lanes: the activities for one destination are spread over
 * `FEDERATION_LANES` outboxes by the resource they concern (a topic, a
 * document), so one busy peer link is not one Durable Object on every
 * message's path. Each lane is a sequence of its own, with its own outbox
 * here and its own inbox and cursor at the receiver (`?lane=<k>` on
 * `/v1/federation/inbox`); the activities of one resource always take the
 * same lane, so their order holds. Lane 0 keeps the names objects had
 * before lanes (the domain, the sender's DID), so an upgraded instance
 * keeps its outboxes and cursors.
 *
 * @example
 * ```ts
 * const lane = laneOf(activity) // 0..7, the same for every activity of one topic or document
 * env.FEDERATION_OUTBOX.getByName(outboxName('b.example', lane))
 * ```
 */
import { type Activity, ActivityType } from '@vivim/shared'

/** Outboxes per destination. A receiver takes any lane from 0 to `MAX_LANE`. */
export const FEDERATION_LANES = 8
/** The largest lane an inbox takes (room for a sender with more lanes than this one). */
export const MAX_LANE = 15

/** The lane an activity travels in: by its topic or document; revocations take lane 0. */
export function laneOf(activity: Activity): number {
  switch (activity.t) {
    case ActivityType.TopicSubscribe:
    case ActivityType.TopicMessage:
      return laneOfName(activity.topic)
    case ActivityType.DocSync:
    case ActivityType.DocUpdate:
    case ActivityType.DocHome:
    case ActivityType.DocPart:
      return laneOfName(activity.doc)
    default:
      return 0
  }
}

function laneOfName(name: string): number {
  // FNV-1a: stable across isolates and restarts, which is all a lane needs.
  let h = 0x811c9dc5
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0
  return h % FEDERATION_LANES
}

/** The outbox of `lane` for a destination. */
export function outboxName(domain: string, lane: number): string {
  return lane === 0 ? domain : `${domain}#${lane}`
}

/** The inbox of `lane` for a sender. */
export function inboxName(did: string, lane: number): string {
  return lane === 0 ? did : `${did}#${lane}`
}
