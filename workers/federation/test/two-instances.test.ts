/**
 * Two edge instances, A and B, each under `wrangler dev` with its own storage
 * and key, federating over loopback HTTP: discovery by domain, a topic with
 * subscribers on both, a document edited on both, and B down while A writes.
 */
import {
  createEnvelope,
  createRecord,
  createRevocation,
  encodeCanonical,
  encodeCapability,
  encodeCapabilityText,
  encodeEnvelope,
  encodeRecord,
  encodeRevocation,
  formatRecordKey,
  generateIdentity,
  issueCapability,
} from '@vivim/shared'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDoc } from './doc-client.ts'
import { type Instance, linked, outboxTo, restartInstance, startPair, waitFor } from './instances.ts'
import { publishText, TopicSubscriber } from './topic-subscriber.ts'

const alice = generateIdentity()
let a: Instance
let b: Instance

beforeAll(async () => {
  ;({ a, b } = await startPair())
})

afterAll(async () => {
  await Promise.all([a?.edge.stop(), b?.edge.stop()])
})

const publish = (at: Instance, topic: string, text: string) => publishText(at, alice, topic, text)

interface Discovered {
  instances: { did: string; domain: string; endpoint: string; capabilities: string[] }[]
}

const texts = (s: TopicSubscriber) => s.messages().map((e) => new TextDecoder().decode(e.payload))

describe('discovery by domain', () => {
  it('finds B by its domain, and A through the peer list B publishes', async () => {
    const fromA = (await (
      await fetch(`${a.url}/v1/federation/discover?domain=${b.domain}&limit=5`)
    ).json()) as Discovered
    expect(fromA.instances).toEqual([
      expect.objectContaining({ did: b.identity.did, domain: b.domain, endpoint: `http://${b.domain}` }),
    ])
    expect(fromA.instances[0]?.capabilities).toEqual(expect.arrayContaining(['topics', 'docs', 'records']))
    // B's own descriptor lists A: discovery from B's domain, at B, follows it (and leaves B itself out).
    const fromB = (await (await fetch(`${b.url}/v1/federation/discover?domain=${b.domain}`)).json()) as Discovered
    expect(fromB.instances.map((i) => i.did)).toEqual([a.identity.did])
  })
})

describe('topics', () => {
  it('delivers a message published on either instance to the subscribers of both, exactly once', async () => {
    const topic = 'circle:messages:fed-both-ways'
    const onB = await TopicSubscriber.open(b.url, topic)
    await linked(a, 'topic', topic, b)
    const onA = await TopicSubscriber.open(a.url, topic)
    await publish(a, topic, 'from A')
    await publish(b, topic, 'from B')
    // Each outbox delivers in order, so once the marker is in, any copy of what came before would be too.
    await publish(a, topic, 'marker A')
    await publish(b, topic, 'marker B')
    for (const s of [onA, onB]) {
      await waitFor('both markers', () =>
        ['marker A', 'marker B'].every((m) => texts(s).includes(m)) ? true : undefined,
      )
      expect(texts(s).sort()).toEqual(['from A', 'from B', 'marker A', 'marker B'])
    }
    onA.close()
    onB.close()
  })
})

describe('documents', () => {
  it('converges a document edited on its home (A) and on a replica (B)', async () => {
    const docId = 'notes-fed-converge'
    const onA = openDoc(a, docId)
    onA.map.set('before', 'written on A before B replicated')
    await waitFor('A synced', () => (onA.provider.synced ? true : undefined))
    const onB = openDoc(b, docId, a)
    await linked(a, 'doc', docId, b)
    onA.map.set('a', 'edited on A')
    onB.map.set('b', 'edited on B')
    const want = { before: 'written on A before B replicated', a: 'edited on A', b: 'edited on B' }
    for (const side of [onA, onB]) {
      await waitFor('both edits', () => (side.map.size === 3 ? true : undefined))
      expect(side.map.toJSON()).toEqual(want)
    }
    onA.provider.destroy()
    onB.provider.destroy()
  })
})

describe('document updates larger than a transaction', () => {
  it('reach the replica in parts: a large state by the state-vector exchange, then a large edit', async () => {
    const docId = 'notes-fed-large'
    // Letters no codec shortens, larger than a transaction (192 KiB) but within a room frame (1 MiB).
    const text = (n: number, seed: number) =>
      Array.from({ length: n }, (_, i) => String.fromCharCode(97 + ((i * 7919 + seed) % 26))).join('')
    const onA = openDoc(a, docId)
    await waitFor('A synced', () => (onA.provider.synced ? true : undefined))
    onA.map.set('state', text(400 * 1024, 1))
    const onB = openDoc(b, docId, a)
    await waitFor('the large state at B', () => (onB.map.get('state')?.length === 400 * 1024 ? true : undefined))
    onA.map.set('edit', text(300 * 1024, 2))
    await waitFor('the large edit at B', () => (onB.map.get('edit')?.length === 300 * 1024 ? true : undefined))
    expect(onB.map.toJSON()).toEqual(onA.map.toJSON())
    onA.provider.destroy()
    onB.provider.destroy()
  })
})

describe('records', () => {
  it('finds a record written on A when B misses it, and keeps it at B', async () => {
    const author = generateIdentity()
    const key = formatRecordKey({ kind: 'profile', owner: author.did })
    const version = (name: string, timestamp: number) =>
      encodeRecord(createRecord(author, { key, value: new TextEncoder().encode(name), public: true, timestamp }))
    const putAtA = (body: Uint8Array) =>
      fetch(`${a.url}/v1/records${key}`, { method: 'PUT', headers: { 'Content-Type': 'application/cbor' }, body })
    const first = version('{"name":"Ada"}', Date.now() - 1000)
    expect((await putAtA(first)).status).toBe(201)
    const readAtB = async () => {
      const response = await fetch(`${b.url}/v1/records${key}`, { headers: { 'Cache-Control': 'no-cache' } })
      expect(response.status).toBe(200)
      return new Uint8Array(await response.arrayBuffer())
    }
    expect(await readAtB()).toEqual(first)
    // A newer version on A is not what B answers now: B kept its copy and no longer asks.
    expect((await putAtA(version('{"name":"Ada L."}', Date.now()))).status).toBe(200)
    expect(await readAtB()).toEqual(first)
    const none = formatRecordKey({ kind: 'profile', owner: generateIdentity().did })
    expect((await fetch(`${b.url}/v1/records${none}`)).status).toBe(404)
  })
})

describe('revocations', () => {
  it('a token revoked on A stops working on B', async () => {
    // A user's topic is owned by the DID in its name: a publish needs no room to have been opened first.
    const topic = `user:revoked:${alice.did}`
    const token = issueCapability(alice, {
      aud: b.identity.did,
      res: `topic:${topic}`,
      can: ['read', 'write'],
      exp: Date.now() + 3_600_000,
    })
    const publishWithToken = () =>
      fetch(`${b.url}/v1/topics/${topic}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${encodeCapabilityText(token)}` },
        body: encodeEnvelope(createEnvelope(alice, { topic, payload: new Uint8Array([1]) })),
      })
    expect((await publishWithToken()).status).toBe(200)
    const revocation = encodeRevocation(createRevocation(alice, token))
    const revoked = await fetch(`${a.url}/v1/revocations`, {
      method: 'POST',
      body: encodeCanonical({ revocation, token: encodeCapability(token) }),
    })
    expect(revoked.status).toBe(200)
    const refused = await waitFor('B refusing the token', async () => {
      const response = await publishWithToken()
      return response.status === 200 ? undefined : { status: response.status, body: await response.json() }
    })
    expect(refused).toEqual({ status: 401, body: { error: { code: 'token_revoked', message: expect.any(String) } } })
  })
})

describe('B down while A writes', () => {
  it('delivers every write to B once it is back, in order, each once', async () => {
    const topic = 'circle:messages:fed-outage'
    const docId = 'notes-fed-outage'
    const subscriber = await TopicSubscriber.open(b.url, topic)
    await linked(a, 'topic', topic, b)
    subscriber.close()
    const replica = openDoc(b, docId, a)
    await linked(a, 'doc', docId, b)
    replica.provider.destroy()
    await b.edge.stop()

    const home = openDoc(a, docId)
    const sent: string[] = []
    for (let i = 0; i < 20; i++) {
      sent.push(`while B was down ${i}`)
      await publish(a, topic, sent[i] as string)
      home.map.set(`k${i}`, `v${i}`)
    }
    // A kept them and is failing to reach B, with back-off.
    await waitFor('A failing to deliver', async () => {
      const outbox = await outboxTo(a, b)
      return outbox && outbox.pending > 0 && outbox.failures > 0 ? outbox : undefined
    })

    await restartInstance(b)
    const after = await TopicSubscriber.open(b.url, topic, 0)
    await waitFor('every message at B', () => (texts(after).length >= sent.length ? true : undefined))
    expect(texts(after)).toEqual(sent)
    const back = openDoc(b, docId)
    await waitFor('every edit at B', () => (back.map.size === 20 ? true : undefined))
    expect(back.map.get('k19')).toBe('v19')
    await waitFor('A’s outbox drained', async () => {
      const outbox = await outboxTo(a, b)
      return outbox?.pending === 0 ? outbox : undefined
    })
    after.close()
    home.provider.destroy()
    back.provider.destroy()
  })
})

describe('a peer that comes back and speaks', () => {
  it('is sent what waited for it at once, not after the outbox’s back-off', async () => {
    // Back-off of ten minutes: only B being heard from can make A deliver within the test.
    await restartInstance(a, { FEDERATION_RETRY_BASE_MS: '600000', FEDERATION_RETRY_MAX_MS: '600000' })
    const topic = 'circle:messages:fed-wake'
    const subscriber = await TopicSubscriber.open(b.url, topic)
    await linked(a, 'topic', topic, b)
    subscriber.close()
    await b.edge.stop()
    const sent = ['waited 0', 'waited 1', 'waited 2']
    for (const text of sent) await publish(a, topic, text)
    await waitFor('A backing off', async () => {
      const outbox = await outboxTo(a, b)
      return outbox && outbox.failures > 0 ? outbox : undefined
    })
    await restartInstance(b)
    await publish(b, topic, 'B is back')
    const after = await TopicSubscriber.open(b.url, topic, 0)
    await waitFor('what waited, at B', () => (sent.every((t) => texts(after).includes(t)) ? true : undefined))
    expect(texts(after).filter((t) => t.startsWith('waited'))).toEqual(sent)
    after.close()
  })
})
