/**
 * A receiver that lost its state: instance B is replaced by a fresh one on
 * the same domain and key (all its storage gone) after A had delivered it a
 * topic message, a document edit and a revocation. A's outbox finds B's
 * cursor behind what it no longer holds, moves it past the gap, and sends B
 * everything A still has: the topic's messages, the document (by a
 * state-vector exchange) and the revocation. Then the same for A: a home
 * replaced by a fresh instance gets its document back from its replica.
 */
import {
  createEnvelope,
  createRevocation,
  encodeCanonical,
  encodeCapability,
  encodeCapabilityText,
  encodeEnvelope,
  encodeRevocation,
  generateIdentity,
  issueCapability,
} from '@vivim/shared'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDoc } from './doc-client.ts'
import { type Instance, type InstancePlan, linked, outboxTo, startInstance, startPair, waitFor } from './instances.ts'
import { publishText, TopicSubscriber } from './topic-subscriber.ts'

const alice = generateIdentity()
let planA: InstancePlan
let planB: InstancePlan
let a: Instance
let b: Instance

beforeAll(async () => {
  ;({ a, b, planA, planB } = await startPair())
})

afterAll(async () => {
  await Promise.all([a?.edge.stop(), b?.edge.stop()])
})

const publish = (at: Instance, topic: string, text: string) => publishText(at, alice, topic, text)

const texts = (s: TopicSubscriber) => s.messages().map((e) => new TextDecoder().decode(e.payload))

describe('a receiver that lost its state', () => {
  it('is moved past the gap and sent again the topic, the document and the revocation A still has', async () => {
    const topic = 'circle:messages:fed-lost'
    const docId = 'notes-fed-lost'
    const guarded = `user:guarded:${alice.did}`
    const token = issueCapability(alice, {
      aud: b.identity.did,
      res: `topic:${guarded}`,
      can: ['write'],
      exp: Date.now() + 3_600_000,
    })
    const publishWithToken = () =>
      fetch(`${b.url}/v1/topics/${guarded}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${encodeCapabilityText(token)}` },
        body: encodeEnvelope(createEnvelope(alice, { topic: guarded, payload: new Uint8Array([1]) })),
      })

    // B takes part in a topic and replicates a document; A delivers a message, an edit and a revocation.
    const onB = await TopicSubscriber.open(b.url, topic)
    await linked(a, 'topic', topic, b)
    const replica = openDoc(b, docId, a)
    await linked(a, 'doc', docId, b)
    const home = openDoc(a, docId)
    home.map.set('k1', 'delivered before B lost its state')
    await publish(a, topic, 'm1')
    expect((await publishWithToken()).status).toBe(200)
    const revoked = await fetch(`${a.url}/v1/revocations`, {
      method: 'POST',
      body: encodeCanonical({
        revocation: encodeRevocation(createRevocation(alice, token)),
        token: encodeCapability(token),
      }),
    })
    expect(revoked.status).toBe(200)
    await waitFor('m1 at B', () => (texts(onB).includes('m1') ? true : undefined))
    await waitFor('k1 at B', () => (replica.map.get('k1') ? true : undefined))
    await waitFor('B refusing the token', async () => ((await publishWithToken()).status === 401 ? true : undefined))
    await waitFor('A’s outbox to B drained', async () => ((await outboxTo(a, b))?.pending === 0 ? true : undefined))
    onB.close()
    replica.provider.destroy()

    // B is replaced by a fresh instance: same domain and key, nothing stored.
    await b.edge.stop()
    b = await startInstance(planB, { FEDERATION_PEERS: a.domain })
    expect((await publishWithToken()).status).toBe(200)

    await publish(a, topic, 'm2')
    const after = await TopicSubscriber.open(b.url, topic, 0)
    await waitFor('m1 and m2 at B', () => (['m1', 'm2'].every((m) => texts(after).includes(m)) ? true : undefined))
    // Each once: m2 came in the outbox's order, m1 with what A sent again; B's room drops ids it holds.
    expect(texts(after).sort()).toEqual(['m1', 'm2'])
    const back = openDoc(b, docId)
    await waitFor('the document at B', () => (back.map.get('k1') ? true : undefined))
    // Linked again both ways: an edit on A after the recovery reaches B as any other.
    home.map.set('k2', 'after the recovery')
    await waitFor('k2 at B', () => (back.map.get('k2') ? true : undefined))
    const refused = await waitFor('B refusing the token again', async () => {
      const response = await publishWithToken()
      return response.status === 200 ? undefined : { status: response.status, body: await response.json() }
    })
    expect(refused).toEqual({ status: 401, body: { error: { code: 'token_revoked', message: expect.any(String) } } })
    const outbox = await waitFor('A’s outbox to B drained', async () => {
      const o = await outboxTo(a, b)
      return o?.pending === 0 ? o : undefined
    })
    expect(outbox.breaker).toBe('closed')
    after.close()
    home.provider.destroy()
    back.provider.destroy()
  })

  it('a home that lost its state gets the document back from its replica, and the topic, once the replica sends', async () => {
    const topic = 'circle:messages:fed-lost'
    const docId = 'notes-fed-lost'
    await a.edge.stop()
    a = await startInstance(planA, { FEDERATION_PEERS: b.domain })
    // B's next message finds A's cursor behind what A had acknowledged: B sends A what B still has.
    await publish(b, topic, 'm3')
    const atA = await TopicSubscriber.open(a.url, topic, 0)
    await waitFor('m1 to m3 at A', () => (['m1', 'm2', 'm3'].every((m) => texts(atA).includes(m)) ? true : undefined))
    expect(texts(atA).sort()).toEqual(['m1', 'm2', 'm3'])
    const home = openDoc(a, docId)
    await waitFor('the document back at A', () => (home.map.size === 2 ? true : undefined))
    expect(home.map.toJSON()).toEqual({ k1: 'delivered before B lost its state', k2: 'after the recovery' })
    // And A is linked again: what A publishes now reaches B.
    const atB = await TopicSubscriber.open(b.url, topic)
    await publish(a, topic, 'm4')
    await waitFor('m4 at B', () => (texts(atB).includes('m4') ? true : undefined))
    atA.close()
    atB.close()
    home.provider.destroy()
  })
})
