/**
 * What a signed federation request can make an edge fetch. Every check the
 * edge can make alone (signature, lists, time, nonce) and the caller's rate
 * budget come before the sender's descriptor is fetched, so a replayed
 * request never causes a fetch, and a flood of requests naming origins the
 * edge has not discovered fetches no more than the caller's budget. The
 * peers here are Node servers that count every time their descriptor is
 * asked for: exactly what the edge fetched from them.
 */
import { request } from 'node:http'
import { ActivityType, DISCOVER_RATE_LIMIT, FEDERATION_INBOX_PATH, generateIdentity } from '@vivim/shared'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Instance, planInstance, startInstance } from './instances.ts'
import { SigningPeer } from './signing-peer.ts'

/** A peer whose descriptors expire after two seconds, so the edge's cache of it runs out within a test. */
const peer = new SigningPeer()
peer.descriptorTtlMs = 2000
const mallory = generateIdentity()
let a: Instance
let inbox: string

beforeAll(async () => {
  await peer.listen()
  a = await startInstance(await planInstance(), { FEDERATION_PEERS: peer.domain })
  inbox = `${a.url}${FEDERATION_INBOX_PATH}`
})

afterAll(async () => {
  await a?.edge.stop()
  await peer.close()
})

/** Waits (an event, not a bound) until the edge can no longer hold the peer's last descriptor as current. */
async function descriptorExpired(of: SigningPeer): Promise<void> {
  const wait = of.descriptorExpiresAt + 100 - Date.now()
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
}

/** A signed `GET` of a record at the edge, as the protocol's record lookup; its status and error code. */
function lookup(headers: Record<string, string>, path: string) {
  return new Promise<{ status: number; code: string | undefined }>((resolve, reject) => {
    const req = request(`${a.url}${path}`, { method: 'GET', headers, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => {
        const json = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { error?: { code: string } }
        resolve({ status: res.statusCode ?? 0, code: json.error?.code })
      })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}

describe('a replayed request', () => {
  it('is refused with request_replayed and fetches nothing, even once the sender’s descriptor left the cache', async () => {
    const body = peer.transaction(a.identity.did, 1, { t: ActivityType.TopicSubscribe, topic: 'public:news:once' })
    const headers = peer.sign({ body, url: inbox })
    expect((await SigningPeer.post(a.url, headers, body)).status).toBe(200)
    const fetched = peer.descriptorFetches
    expect(fetched).toBeGreaterThan(0)
    await descriptorExpired(peer)
    const replay = await SigningPeer.post(a.url, headers, body)
    expect(replay).toEqual({ status: 409, json: { error: { code: 'request_replayed', message: expect.any(String) } } })
    expect(peer.descriptorFetches).toBe(fetched)
  })

  it('of a forged request (a valid signature by a key that is not the origin’s) fetches nothing either', async () => {
    const body = peer.transaction(a.identity.did, 2, { t: ActivityType.TopicSubscribe, topic: 'public:news:forged' })
    const headers = peer.sign({ body, url: inbox, signer: mallory })
    const first = await SigningPeer.post(a.url, headers, body)
    expect(first.status).toBe(403)
    expect(first.json).toEqual({ error: { code: 'unknown_instance', message: expect.any(String) } })
    const fetched = peer.descriptorFetches
    await descriptorExpired(peer)
    const replay = await SigningPeer.post(a.url, headers, body)
    expect(replay).toEqual({ status: 409, json: { error: { code: 'request_replayed', message: expect.any(String) } } })
    expect(peer.descriptorFetches).toBe(fetched)
  })
})

describe('a flood of forged requests from one caller', () => {
  const strangers = Array.from({ length: DISCOVER_RATE_LIMIT.requests + 3 }, () => new SigningPeer())
  const key = `/vivim/profile/${mallory.did}`
  const path = `/v1/federation/records${key}`
  const signedLookup = (from: SigningPeer, caller: string, signer = mallory) => {
    const headers = from.sign({ body: new Uint8Array(0), url: `${a.url}${path}`, method: 'GET', signer })
    return lookup({ ...headers, 'CF-Connecting-IP': caller }, path)
  }

  beforeAll(() => Promise.all(strangers.map((s) => s.listen())))
  afterAll(() => Promise.all(strangers.map((s) => s.close())))

  it('is refused with rate_limited once the caller’s budget is spent, fetching no more, while another caller is heard', async () => {
    const answers: { status: number; code: string | undefined }[] = []
    // Each names an origin the edge has never discovered, so each would need that origin's descriptor.
    for (const stranger of strangers) answers.push(await signedLookup(stranger, '198.51.100.60'))
    const refusedForKey = answers.filter((x) => x.code === 'unknown_instance').length
    expect(refusedForKey).toBe(DISCOVER_RATE_LIMIT.requests)
    expect(answers.slice(DISCOVER_RATE_LIMIT.requests)).toEqual(
      Array(strangers.length - DISCOVER_RATE_LIMIT.requests).fill({ status: 429, code: 'rate_limited' }),
    )
    const fetches = strangers.reduce((n, s) => n + s.descriptorFetches, 0)
    expect(fetches).toBe(DISCOVER_RATE_LIMIT.requests)
    // The last stranger was never fetched; asked by its own key from another caller, it is verified (and the record is simply missing).
    const last = strangers.at(-1) as SigningPeer
    expect(await signedLookup(last, '198.51.100.61', last.identity)).toEqual({ status: 404, code: 'not_found' })
    expect(last.descriptorFetches).toBe(1)
  })
})

describe('discovery through a long peer list', () => {
  const listed = Array.from({ length: DISCOVER_RATE_LIMIT.requests + 5 }, () => new SigningPeer())
  const root = new SigningPeer()

  beforeAll(async () => {
    await Promise.all([root, ...listed].map((s) => s.listen()))
    root.peers = listed.map((s) => s.domain)
  })
  afterAll(() => Promise.all([root, ...listed].map((s) => s.close())))

  it('fetches listed peers only while the caller’s budget lasts, and answers what it found', async () => {
    const url = `${a.url}/v1/federation/discover?domain=${root.domain}&limit=64`
    const response = await fetch(url, { headers: { 'CF-Connecting-IP': '198.51.100.62' } })
    expect(response.status).toBe(200)
    const { instances } = (await response.json()) as { instances: { did: string }[] }
    // The request itself pays one (and covers the root), each listed peer fetched one more.
    const affordable = DISCOVER_RATE_LIMIT.requests - 1
    expect(instances.map((i) => i.did)).toEqual([
      root.identity.did,
      ...listed.slice(0, affordable).map((s) => s.identity.did),
    ])
    expect(listed.map((s) => s.descriptorFetches)).toEqual(listed.map((_, i) => (i < affordable ? 1 : 0)))
  })
})
