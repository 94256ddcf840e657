/**
 * Webhook deliveries in workerd, to a stand-in receiver (`webhook-receiver.ts`):
 * a burst of document changes makes one delivery (or a few) when the
 * longest wait is due, signed as federation signs; a failing receiver is
 * retried and then delivered, each state listed; a URL that keeps failing
 * is given up and suspended; topic messages carry their signed envelope;
 * circle deliveries carry who joined and left; a document without webhooks
 * costs its webhook object one question.
 */
import { env } from 'cloudflare:test'
import { base64urlnopad } from '@scure/base'
import {
  Circle,
  contentDigestMatches,
  decodeEnvelope,
  FEDERATION_SIGNED_COMPONENTS,
  generateIdentity,
  publicKeyFromDid,
  validateEnvelope,
  verifyMessage,
} from '@vivim/shared'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { edgeIdentity } from '../auth/edge-identity.ts'
import { censusRows } from '../census.ts'
import { fireAt, type SubRow } from '../webhooks/resource-store.ts'
import { WEBHOOK_LIMITS } from '../webhooks/subscription.ts'
import { peerOf } from './doc-tokens.ts'
import { bodiesFor, ownedTopic, queueOf, receiver, retryNow, subscribe, until } from './webhook-receiver.ts'

const ok = () => new Response('ok')

describe('document deliveries', () => {
  it('many quick changes make one delivery (or a few) when the longest wait is due, not the debounce', async () => {
    receiver.answer = ok
    const owner = generateIdentity()
    const docId = `notes:${crypto.randomUUID()}`
    const peer = await peerOf(owner, owner, docId)
    // A debounce no test outlives: only the longest wait can make the delivery.
    const id = await subscribe(owner, `doc:${docId}`, { debounceMs: 600_000, maxWaitMs: 200 })
    const log = peer.doc.getArray<number>('log')
    for (let i = 0; i < 40; i++) log.push([i])
    const clock = Y.decodeStateVector(Y.encodeStateVector(peer.doc)).get(peer.doc.clientID)
    const covered = () =>
      bodiesFor(id).some((b) =>
        (b.data.clients as { client: number; to: number }[]).some(
          (c) => c.client === peer.doc.clientID && c.to === clock,
        ),
      )
    await until(covered)
    const bodies = bodiesFor(id)
    expect(bodies.length).toBeLessThan(40)
    expect(bodies.map((b) => b.seq)).toEqual(bodies.map((_, i) => i + 1))
    const last = bodies.at(-1) as (typeof bodies)[number]
    expect(last).toMatchObject({ event: 'doc.changed', data: { doc: docId, peers: [], moreClients: 0 } })
    const stateVector = Y.decodeStateVector(base64urlnopad.decode(last.data.stateVector as string))
    expect(stateVector.get(peer.doc.clientID)).toBe(clock)
    const total = bodies.reduce((sum, b) => sum + (b.data.updates as number), 0)
    expect(total).toBeGreaterThan(0)
    // Who changed it: the DID whose writes the flushes held, named once per delivery.
    expect(new Set(bodies.flatMap((b) => b.data.writers as string[]))).toEqual(new Set([owner.did]))
    peer.close()
  })

  it('is signed by the edge in federation’s form, over the body sent', async () => {
    receiver.answer = ok
    const { owner, topic, publish } = await ownedTopic()
    const id = await subscribe(owner, `topic:${topic}`)
    await publish('signed')
    await until(() => bodiesFor(id).length === 1)
    const sent = receiver.received.find((r) => r.body.includes(id)) as (typeof receiver.received)[number]
    expect(sent.method).toBe('POST')
    expect(sent.headers.get('content-type')).toBe('application/json')
    expect(sent.headers.get('vivim-origin')).toBe('edge.test')
    expect(contentDigestMatches(sent.headers.get('content-digest'), new TextEncoder().encode(sent.body))).toBe(true)
    const verified = await verifyMessage(
      { method: sent.method, url: sent.url, header: (name) => sent.headers.get(name) },
      { publicKeyOf: publicKeyFromDid, required: FEDERATION_SIGNED_COMPONENTS },
    )
    expect(verified.params).toMatchObject({ keyid: edgeIdentity(env).did, alg: 'ed25519' })
    expect(verified.label).toBe('sig1')
  })

  it('is due the debounce after the last change or the longest wait after the first, whichever is sooner', () => {
    const row = (first: number | null, last: number | null, extra: Partial<SubRow> = {}): SubRow => ({
      id: 'x',
      event: 'doc.changed',
      debounce: 1000,
      max_wait: 5000,
      created: 0,
      first_at: first,
      last_at: last,
      updates: 1,
      peers: '[]',
      writers: '[]',
      check_at: null,
      retry_at: null,
      base: null,
      ...extra,
    })
    expect(fireAt(row(null, null))).toBeNull()
    expect(fireAt(row(0, 0))).toBe(1000)
    expect(fireAt(row(0, 3500))).toBe(4500)
    // Changes every few hundred ms forever: the longest wait still comes.
    expect(fireAt(row(0, 4900))).toBe(5000)
    expect(fireAt(row(null, null, { check_at: 7000 }))).toBe(7000)
    expect(fireAt(row(0, 0, { retry_at: 30_000 }))).toBe(30_000)
  })
})

describe('retries and statuses', () => {
  it('a receiver that fails is retried with the same delivery, then delivered; each state is listed', async () => {
    receiver.answer = () => new Response('down', { status: 500 })
    const { owner, topic, publish } = await ownedTopic()
    const id = await subscribe(owner, `topic:${topic}`)
    await publish('first')
    await until(async () => (await queueOf(id)).status.state === 'retrying')
    const failing = await queueOf(id)
    expect(failing.status).toMatchObject({ pending: 1, lastError: 'the receiver answered 500', delivered: 0 })
    expect(failing.status.nextAttemptAt).toBeGreaterThan(Date.now())
    expect(failing.deliveries).toMatchObject([{ status: 'retrying', attempts: 1, lastStatus: 500 }])

    receiver.answer = ok
    await retryNow(id)
    const done = await queueOf(id)
    expect(done.status).toMatchObject({ state: 'active', pending: 0, delivered: 1, nextAttemptAt: null })
    expect(done.deliveries).toMatchObject([{ status: 'delivered', attempts: 2, lastStatus: 200, nextAttemptAt: null }])
    const bodies = bodiesFor(id)
    expect(bodies).toHaveLength(2)
    expect(bodies[0]?.id).toBe(bodies[1]?.id)
  })

  it('gives a delivery up after its last attempt, suspends after three in a row, and counts what it drops', async () => {
    receiver.answer = () => new Response('no', { status: 503 })
    const { owner, topic, publish } = await ownedTopic()
    const id = await subscribe(owner, `topic:${topic}`)
    for (const text of ['a', 'b', 'c', 'd']) await publish(text)
    await until(async () => (await queueOf(id)).deliveries.length === 4)
    for (let i = 0; i < 3 * WEBHOOK_LIMITS.attempts && (await queueOf(id)).status.state !== 'suspended'; i++) {
      await retryNow(id)
    }
    const { status, deliveries } = await queueOf(id)
    expect(status).toMatchObject({ state: 'suspended', pending: 0, failed: 4, delivered: 0 })
    expect(deliveries.map((d) => d.status)).toEqual(['failed', 'failed', 'failed', 'failed'])
    expect(deliveries.slice(1).map((d) => d.attempts)).toEqual(Array(3).fill(WEBHOOK_LIMITS.attempts))
    expect(bodiesFor(id)).toHaveLength(3 * WEBHOOK_LIMITS.attempts)
    await publish('e')
    await until(async () => (await queueOf(id)).status.dropped === 1)
    expect(bodiesFor(id)).toHaveLength(3 * WEBHOOK_LIMITS.attempts)
  })

  it('a receiver answering 410 Gone suspends the webhook at once', async () => {
    receiver.answer = () => new Response('gone', { status: 410 })
    const { owner, topic, publish } = await ownedTopic()
    const id = await subscribe(owner, `topic:${topic}`)
    await publish('x')
    await until(async () => (await queueOf(id)).status.state === 'suspended')
    expect((await queueOf(id)).deliveries).toMatchObject([{ status: 'failed', attempts: 1, lastStatus: 410 }])
  })
})

describe('topic and circle payloads', () => {
  it('a topic delivery carries the signed envelope, which verifies under its author', async () => {
    receiver.answer = ok
    const { owner, topic, publish } = await ownedTopic()
    const id = await subscribe(owner, `topic:${topic}`)
    await publish('hello')
    await until(() => bodiesFor(id).length === 1)
    const { data } = bodiesFor(id)[0] as { data: Record<string, unknown> }
    expect(data).toMatchObject({ topic, author: owner.did })
    const envelope = decodeEnvelope(base64urlnopad.decode(data.envelope as string))
    validateEnvelope(envelope)
    expect(new TextDecoder().decode(envelope.payload)).toBe('hello')
  })

  it('a circle delivery says who joined and who left', async () => {
    receiver.answer = ok
    const owner = generateIdentity()
    const [bob, carol] = [generateIdentity(), generateIdentity()]
    const docId = `circle:${crypto.randomUUID()}`
    const peer = await peerOf(owner, owner, docId)
    Circle.addMember(peer.doc, bob.did, 'member')
    const id = await subscribe(owner, `doc:${docId}`, { event: 'circle.members', debounceMs: 100, maxWaitMs: 100 })
    Circle.addMember(peer.doc, carol.did, 'admin')
    await until(() => bodiesFor(id).length === 1)
    expect(bodiesFor(id)[0]?.data).toEqual({
      doc: docId,
      added: [{ did: carol.did, role: 'admin' }],
      removed: [],
      roles: [],
      truncated: false,
    })
    Circle.removeMember(peer.doc, bob.did)
    Circle.addMember(peer.doc, carol.did, 'member')
    await until(() => bodiesFor(id).length === 2)
    expect(bodiesFor(id)[1]?.data).toMatchObject({
      removed: [bob.did],
      roles: [{ did: carol.did, from: 'admin', to: 'member' }],
    })
    peer.close()
  })
})

describe('documents without webhooks', () => {
  it('cost their webhook object one question for many flushes, and it stores nothing', async () => {
    const owner = generateIdentity()
    const docId = `notes:${crypto.randomUUID()}`
    const peer = await peerOf(owner, owner, docId)
    for (let i = 0; i < 30; i++) {
      peer.doc.getArray<number>('log').push([i])
      await peer.until(() => peer.updatesReceived > 0 || peer.closed !== null)
    }
    const resource = env.WEBHOOK_RESOURCE.getByName(`doc:${docId}`)
    await until(() => censusRows().some((row) => row.binding === 'WEBHOOK_RESOURCE' && row.name === `doc:${docId}`))
    const asked = censusRows().find((row) => row.binding === 'WEBHOOK_RESOURCE' && row.name === `doc:${docId}`)
    expect(asked?.requests).toBe(1)
    expect(await resource.subscribed()).toBe(false)
    peer.close()
  })
})
