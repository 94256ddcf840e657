/**
 * Two federated instances cut apart (`flaky-proxy.ts`: each instance's
 * domain is a proxy that drops every connection while partitioned), with
 * writes on both sides, then joined again: a federated topic's subscribers
 * on each side receive every message of both sides exactly once, and a
 * document edited on its home and on its replica converges. The partition
 * lasts `PARTITION_MS` (30 s by default, long past the outboxes' test
 * back-off cap of 1.5 s and their circuit breaker; `FAULTS_PARTITION_MS`
 * sets it, for a run of several minutes).
 */
import { generateIdentity } from '@vivim/shared'
import { afterAll, describe, expect, it } from 'vitest'
import { openDoc } from '../../workers/federation/test/doc-client.ts'
import { type Instance, linked, planInstance, startInstance, waitFor } from '../../workers/federation/test/instances.ts'
import { publishText, TopicSubscriber } from '../../workers/federation/test/topic-subscriber.ts'
import { FlakyProxy } from './flaky-proxy.ts'

const PARTITION_MS = Number(process.env.FAULTS_PARTITION_MS ?? 30_000)
const PER_SIDE = 20

describe('two instances partitioned, then joined', () => {
  const cleanups: (() => Promise<void> | void)[] = []
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup()
  })

  it('converge, lose nothing, and deliver every message once', { timeout: PARTITION_MS + 240_000 }, async () => {
    const [planA, planB] = await Promise.all([planInstance(), planInstance()])
    // Each instance is known by its proxy's address: a partition cuts both directions.
    const proxyA = await FlakyProxy.start(planA.port, { seed: 1, cutChance: 0, maxDelayMs: 0 })
    const proxyB = await FlakyProxy.start(planB.port, { seed: 2, cutChance: 0, maxDelayMs: 0 })
    cleanups.push(
      () => proxyA.close(),
      () => proxyB.close(),
    )
    const domainA = `127.0.0.1:${proxyA.port}`
    const domainB = `127.0.0.1:${proxyB.port}`
    const a: Instance = await startInstance(
      { ...planA, domain: domainA, vars: { ...planA.vars, FEDERATION_DOMAIN: domainA } },
      { FEDERATION_PEERS: domainB },
    )
    cleanups.push(() => a.edge.stop())
    const b: Instance = await startInstance(
      { ...planB, domain: domainB, vars: { ...planB.vars, FEDERATION_DOMAIN: domainB } },
      { FEDERATION_PEERS: domainA },
    )
    cleanups.push(() => b.edge.stop())

    const author = generateIdentity()
    const topic = 'circle:messages:partitioned'
    const onB = await TopicSubscriber.open(b.url, topic)
    await linked(a, 'topic', topic, b)
    const onA = await TopicSubscriber.open(a.url, topic)
    await linked(b, 'topic', topic, a)
    cleanups.push(
      () => onA.close(),
      () => onB.close(),
    )
    const docId = 'notes-partitioned'
    const docA = openDoc(a, docId)
    await waitFor('the home synced', () => (docA.provider.synced ? true : undefined))
    const docB = openDoc(b, docId, a)
    await linked(a, 'doc', docId, b)
    cleanups.push(
      () => docA.provider.destroy(),
      () => docB.provider.destroy(),
    )

    proxyA.partition()
    proxyB.partition()
    const sent: string[] = []
    for (let n = 0; n < PER_SIDE; n++) {
      for (const [side, at] of [
        ['A', a],
        ['B', b],
      ] as const) {
        await publishText(at, author, topic, `${side}${n}`)
        sent.push(`${side}${n}`)
      }
      docA.map.set(`a${n}`, 'home')
      docB.map.set(`b${n}`, 'replica')
    }
    await new Promise((r) => setTimeout(r, PARTITION_MS))
    // Nothing crossed while the instances were apart.
    const heard = (s: TopicSubscriber) => s.messages().map((e) => new TextDecoder().decode(e.payload))
    expect(heard(onA).some((t) => t.startsWith('B'))).toBe(false)
    expect(heard(onB).some((t) => t.startsWith('A'))).toBe(false)
    proxyA.rejoin()
    proxyB.rejoin()

    for (const s of [onA, onB]) {
      await waitFor('every message on both sides', () => (heard(s).length >= sent.length ? true : undefined), 180_000)
    }
    for (const side of [docA, docB]) {
      await waitFor('both sides’ edits', () => (side.map.size === 2 * PER_SIDE ? true : undefined), 180_000)
    }
    await new Promise((r) => setTimeout(r, 500)) // a copy, if any, would follow the last message
    for (const s of [onA, onB]) expect([...heard(s)].sort()).toEqual([...sent].sort())
    expect(docB.map.toJSON()).toEqual(docA.map.toJSON())
  })
})
