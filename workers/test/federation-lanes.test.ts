/**
 * Federation's lanes (`workers/federation/lanes.ts`): the activities of one
 * resource always take one lane, revocations take lane 0, resources spread
 * over every lane (an inbox's lanes: `workers/federation/test/bad-input.test.ts`).
 */
import { ActivityType } from '@vivim/shared'
import { describe, expect, it } from 'vitest'
import { FEDERATION_LANES, inboxName, laneOf, outboxName } from '../federation/lanes.ts'

describe('federation lanes', () => {
  it('keep one resource’s activities in one lane and spread resources over all of them', () => {
    const doc = 'notes:lanes'
    const lanes = new Set([
      laneOf({ t: ActivityType.DocSync, doc, sv: new Uint8Array([0]), reply: false }),
      laneOf({ t: ActivityType.DocUpdate, doc, update: new Uint8Array([0, 0]) }),
      laneOf({ t: ActivityType.DocHome, doc }),
    ])
    expect(lanes.size).toBe(1)
    const topic = 'public:news:lanes'
    expect(laneOf({ t: ActivityType.TopicSubscribe, topic })).toBe(
      laneOf({ t: ActivityType.TopicMessage, topic, envelope: new Uint8Array([1]) }),
    )
    expect(laneOf({ t: ActivityType.Revocation, revocation: new Uint8Array(), token: new Uint8Array() })).toBe(0)
    const used = new Set(
      Array.from({ length: 200 }, (_, n) => laneOf({ t: ActivityType.TopicSubscribe, topic: `t${n}` })),
    )
    expect(used.size).toBe(FEDERATION_LANES)
  })

  it('name lane 0’s objects as before lanes, and the others apart', () => {
    expect(outboxName('b.example', 0)).toBe('b.example')
    expect(inboxName('did:key:z6Mk', 0)).toBe('did:key:z6Mk')
    expect(outboxName('b.example', 3)).toBe('b.example#3')
  })
})
