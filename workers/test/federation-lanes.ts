/**
 * Federation's lanes for tests: a topic name whose activities travel in
 * lane 0, so a test that fills or reads the destination's lane-0 outbox
 * (named by the domain alone) sees them there.
 */
import { ActivityType } from '@vivim/shared'
import { laneOf } from '../federation/lanes.ts'

/** `prefix`, or `prefix` with the first suffix `-<n>` that puts the topic in lane 0. */
export function inLaneZero(prefix: string): string {
  for (let n = 0; ; n++) {
    const topic = n === 0 ? prefix : `${prefix}-${n}`
    if (laneOf({ t: ActivityType.TopicSubscribe, topic }) === 0) return topic
  }
}
