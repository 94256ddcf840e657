/**
 * What this instance still has for a peer that lost its state (its inbox
 * cursor fell behind what it had acknowledged): sent again after a `gap`,
 * so the peer rebuilds what federation gave it, as far as this instance
 * still holds it.
 *
 *   topics       `topic.subscribe` (the peer relinks the topic), then every
 *                message the topic room still keeps; the peer's room drops
 *                the ids it holds;
 *   documents    a state-vector exchange: `doc.sync` to a home, `doc.home`
 *                to a replica (which links us as its home and sends
 *                `doc.sync`); each side then sends what the other lacks;
 *   revocations  every revocation this instance passed on.
 *
 * @example
 * ```ts
 * const activities = await recoveryFor(env, 'b.example')
 * ```
 */
import { type Activity, ActivityType } from '@vivim/shared'
import { docState } from './doc-link.ts'
import { federationHub } from './hub.ts'
import { laneOf } from './lanes.ts'
import { heldRevocations } from './revocation-fanout.ts'

export async function recoveryFor(env: Env, domain: string): Promise<Activity[]> {
  const hub = federationHub(env)
  const out: Activity[] = []
  for (const link of await hub.linksWith(domain)) {
    if (link.kind === 'topic') {
      out.push({ t: ActivityType.TopicSubscribe, topic: link.name })
      for (const envelope of await env.TOPIC_ROOM.getByName(link.name).history(link.name)) {
        out.push({ t: ActivityType.TopicMessage, topic: link.name, envelope })
      }
    } else if (link.role === 'home') {
      const { stateVector: sv } = await docState(env, link.name)
      out.push({ t: ActivityType.DocSync, doc: link.name, sv, reply: false })
    } else {
      out.push({ t: ActivityType.DocHome, doc: link.name })
    }
  }
  for (const { revocation, token } of await heldRevocations(env)) {
    out.push({ t: ActivityType.Revocation, revocation, token })
  }
  return out
}

/** `recoveryFor`, split into what travels in `lane` and what travels in the destination's other lanes. */
export async function recoveryByLane(
  env: Env,
  domain: string,
  lane: number,
): Promise<{ here: Activity[]; elsewhere: Activity[] }> {
  const activities = await recoveryFor(env, domain)
  return {
    here: activities.filter((activity) => laneOf(activity) === lane),
    elsewhere: activities.filter((activity) => laneOf(activity) !== lane),
  }
}
