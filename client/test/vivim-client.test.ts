import { createRecord, ErrorCode, formatRecordKey, generateIdentity, type VivimError } from '@vivim/shared'
import { describe, expect, inject, it } from 'vitest'
import type { VivimDocProvider } from '../src/doc-provider.ts'
import type { TopicMessage } from '../src/topic-client.ts'
import { VivimClient } from '../src/vivim-client.ts'

const edge = inject('edgeUrl')
const HOUR = 3_600_000

function synced(provider: VivimDocProvider): Promise<void> {
  return new Promise((resolve, reject) => {
    if (provider.state.value === 'synced') return resolve()
    provider.state.on((s) => s === 'synced' && resolve())
    provider.on('error', (e: VivimError) => reject(e))
  })
}

function until(check: () => boolean, wake: (notify: () => void) => void): Promise<void> {
  return new Promise((resolve) => {
    const notify = () => check() && resolve()
    wake(notify)
    notify()
  })
}

describe('VivimClient', () => {
  it('a creator owns a circle, grants a member, and a stranger is refused', async () => {
    const alice = new VivimClient({ edge, identity: generateIdentity() })
    const bobId = generateIdentity()
    const circleId = crypto.randomUUID()
    const own = alice.circle(circleId)
    await synced(own)
    own.doc.getMap('meta').set('name', 'Book club')
    const grant = alice.grant({
      resource: `doc:circle:${circleId}`,
      actions: ['read', 'write'],
      expiresAt: Date.now() + HOUR,
      to: bobId.did,
    })
    const bob = new VivimClient({ edge, identity: bobId, grants: [grant] })
    expect((await bob.verify(grant, 'write')).invoker).toBe(alice.identity?.did)
    const joined = bob.circle(circleId)
    await synced(joined)
    expect(joined.doc.getMap('meta').get('name')).toBe('Book club')
    const stranger = new VivimClient({ edge, identity: generateIdentity() }).circle(circleId)
    const refused = await new Promise<VivimError>((resolve) => stranger.once('error', resolve))
    expect(refused.code).toBe(ErrorCode.NotOwner)
    expect(stranger.retrying).toBe(false)
    for (const p of [own, joined, stranger]) p.destroy()
  })

  it('publishes and subscribes, verifying every message, and resumes without loss after a reconnect', async () => {
    const me = generateIdentity()
    const client = new VivimClient({ edge, identity: me })
    const topic = `user:updates:${me.did}`
    const seen: TopicMessage[] = []
    let wake = () => {}
    const stop = client.subscribe(topic, (m) => {
      seen.push(m)
      wake()
    })
    await client.publish(topic, 'one')
    await until(
      () => seen.length === 1,
      (n) => (wake = n),
    )
    stop()
    await client.publish(topic, 'two')
    await client.publish(topic, 'three')
    const resumed: string[] = []
    const stop2 = client.subscribe(
      topic,
      (m) => {
        resumed.push(m.text())
        wake()
      },
      { cursor: seen[0]?.cursor },
    )
    await until(
      () => resumed.length === 2,
      (n) => (wake = n),
    )
    expect(resumed).toEqual(['two', 'three'])
    expect(seen[0]?.author).toBe(me.did)
    stop2()
  })

  it('puts, gets and finds records, and announces providers', async () => {
    const me = generateIdentity()
    const client = new VivimClient({ edge, identity: me })
    const key = formatRecordKey({ kind: 'profile', owner: me.did })
    const value = new TextEncoder().encode(JSON.stringify({ displayName: `Zebediah ${me.did.slice(-6)}` }))
    await client.records.put(createRecord(me, { key, value, public: true }))
    expect((await client.records.get(key))?.value).toEqual(value)
    expect(await client.records.get(formatRecordKey({ kind: 'profile', owner: generateIdentity().did }))).toBeNull()
    const found = await client.records.search(`Zebediah ${me.did.slice(-6)}`)
    expect(found.results.map((r) => r.key)).toContain(key)
    await client.records.provide(key, { peer: me.did, ttl: 60 })
    expect((await client.records.findProviders(key)).map((p) => p.peer)).toEqual([me.did])
    await expect(client.records.put(createRecord(generateIdentity(), { key, value }))).rejects.toMatchObject({
      code: ErrorCode.Forbidden,
    })
  })
})
