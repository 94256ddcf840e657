/**
 * An edge instance refusing federation requests it must not act on: each
 * refused with the JSON error shape and changing nothing (no link made, the
 * sender's cursor unmoved), while a well-formed request from the same peer
 * is applied exactly once.
 */
import {
  type Activity,
  ActivityType,
  DISCOVER_RATE_LIMIT,
  FEDERATION_INBOX_PATH,
  generateIdentity,
  splitDocUpdate,
} from '@vivim/shared'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { type Instance, planInstance, startInstance, statusOf } from './instances.ts'
import { SigningPeer } from './signing-peer.ts'

const blocked = generateIdentity()
const peer = new SigningPeer()
/** A well-behaved instance that A does not list as a peer nor allow. */
const stranger = new SigningPeer()
/** An instance whose domain A blocks. */
const banned = new SigningPeer()
let a: Instance
let inbox: string

beforeAll(async () => {
  await Promise.all([peer.listen(), stranger.listen(), banned.listen()])
  a = await startInstance(await planInstance(), {
    FEDERATION_PEERS: `${peer.domain},${banned.domain}`,
    FEDERATION_BLOCK: `${blocked.did},${banned.domain}`,
  })
  inbox = `${a.url}${FEDERATION_INBOX_PATH}`
})

afterAll(async () => {
  await a?.edge.stop()
  await Promise.all([peer.close(), stranger.close(), banned.close()])
})

/** A Yjs update of 300 KiB: sent as parts. */
function largeUpdate(): Uint8Array {
  const doc = new Y.Doc()
  doc
    .getMap('m')
    .set('k', Array.from({ length: 300 * 1024 }, (_, i) => String.fromCharCode(97 + ((i * 31) % 26))).join(''))
  return Y.encodeStateAsUpdate(doc)
}

const subscribe = (topic: string) => ({ t: ActivityType.TopicSubscribe, topic }) as const
const linkedTopics = async () => (await statusOf(a)).links.filter((l) => l.peer === peer.domain).map((l) => l.name)

function expectRefused(answer: { status: number; json: Record<string, unknown> }, status: number, code: string) {
  expect(answer.status).toBe(status)
  expect(answer.json).toEqual({ error: { code, message: expect.any(String) } })
}

describe('the inbox', () => {
  it('applies a signed transaction once, and a redelivery of its id is a duplicate', async () => {
    const body = peer.transaction(a.identity.did, 1, subscribe('public:news:good'))
    const first = await SigningPeer.post(a.url, peer.sign({ body, url: inbox }), body)
    expect(first).toEqual({ status: 200, json: { cursor: 1, duplicate: false } })
    const again = await SigningPeer.post(a.url, peer.sign({ body, url: inbox }), body)
    expect(again).toEqual({ status: 200, json: { cursor: 1, duplicate: true } })
    expect(await linkedTopics()).toEqual(['public:news:good'])
  })

  describe('refuses, changing nothing', () => {
    const bad = (name: string) => peer.transaction(a.identity.did, 2, subscribe(`public:news:bad-${name}`))

    it('an unsigned request', async () => {
      const body = bad('unsigned')
      const { signature: _s, 'signature-input': _i, ...unsigned } = peer.sign({ body, url: inbox })
      expectRefused(await SigningPeer.post(a.url, unsigned, body), 401, 'signature_required')
    })

    it('a wrongly signed request (a body other than the one signed, with its own digest)', async () => {
      const signedFor = bad('wrong-sig')
      const body = bad('wrong-sig-swapped')
      const headers = { ...peer.sign({ body: signedFor, url: inbox }) }
      headers['content-digest'] = peer.sign({ body, url: inbox })['content-digest'] as string
      expectRefused(await SigningPeer.post(a.url, headers, body), 400, 'invalid_signature')
    })

    it('a body that does not match its digest', async () => {
      const headers = peer.sign({ body: bad('digest'), url: inbox })
      expectRefused(await SigningPeer.post(a.url, headers, bad('digest-other')), 400, 'digest_mismatch')
    })

    it('a request signed for another instance (its authority)', async () => {
      const body = bad('elsewhere')
      const headers = peer.sign({ body, url: `http://127.0.0.1:1${FEDERATION_INBOX_PATH}` })
      expectRefused(await SigningPeer.post(a.url, headers, body), 400, 'invalid_signature')
    })

    it('a forged request: a valid signature by a key that is not the origin domain’s', async () => {
      const body = bad('forged')
      const headers = peer.sign({ body, url: inbox, signer: generateIdentity() })
      expectRefused(await SigningPeer.post(a.url, headers, body), 403, 'unknown_instance')
    })

    it('a replayed request', async () => {
      const body = peer.transaction(a.identity.did, 1, subscribe('public:news:good'))
      const headers = peer.sign({ body, url: inbox })
      expect((await SigningPeer.post(a.url, headers, body)).status).toBe(200)
      const replayBody = bad('replayed')
      const replay = peer.sign({ body: replayBody, url: inbox })
      expect((await SigningPeer.post(a.url, replay, replayBody)).status).toBe(200)
      expectRefused(await SigningPeer.post(a.url, replay, replayBody), 409, 'request_replayed')
    })

    it('a request whose signature does not say alg="ed25519", or says another', async () => {
      for (const alg of [null, 'hmac-sha256']) {
        const body = bad('no-alg')
        expectRefused(
          await SigningPeer.post(a.url, peer.sign({ body, url: inbox, alg }), body),
          400,
          'invalid_signature',
        )
      }
    })

    it('a request whose signature has expired', async () => {
      const body = bad('expired')
      const headers = peer.sign({ body, url: inbox, expires: Math.floor(Date.now() / 1000) - 1 })
      expectRefused(await SigningPeer.post(a.url, headers, body), 401, 'request_stale')
    })

    it('a stale request', async () => {
      const body = bad('stale')
      const headers = peer.sign({ body, url: inbox, created: Math.floor(Date.now() / 1000) - 10 * 60 })
      expectRefused(await SigningPeer.post(a.url, headers, body), 401, 'request_stale')
    })

    it('an oversize request, within and past the edge’s body limit', async () => {
      for (const size of [200 * 1024, 300 * 1024]) {
        const body = new Uint8Array(size)
        expectRefused(await SigningPeer.post(a.url, peer.sign({ body, url: inbox }), body), 413, 'payload_too_large')
      }
    })

    it('a request from a blocked instance', async () => {
      const body = bad('blocked')
      const headers = peer.sign({ body, url: inbox, signer: blocked })
      expectRefused(await SigningPeer.post(a.url, headers, body), 403, 'instance_blocked')
    })

    it('a request from a blocked domain, even one listed as a peer', async () => {
      const body = banned.transaction(a.identity.did, 1, subscribe('public:news:bad-banned'))
      expectRefused(await SigningPeer.post(a.url, banned.sign({ body, url: inbox }), body), 403, 'instance_blocked')
    })

    it('an unsigned record lookup', async () => {
      const response = await fetch(`${a.url}/v1/federation/records/vivim/profile/${peer.identity.did}`)
      expect(response.status).toBe(401)
      expect(await response.json()).toEqual({ error: { code: 'signature_required', message: expect.any(String) } })
    })

    it('a transaction from an instance that is neither a peer nor allowed', async () => {
      const body = stranger.transaction(a.identity.did, 1, subscribe('public:news:bad-stranger'))
      const answer = await SigningPeer.post(a.url, stranger.sign({ body, url: inbox }), body)
      expectRefused(answer, 403, 'instance_blocked')
      expect((await statusOf(a)).links.filter((l) => l.peer === stranger.domain)).toEqual([])
    })

    it('a transaction that is not one', async () => {
      const body = new TextEncoder().encode('not cbor')
      expectRefused(await SigningPeer.post(a.url, peer.sign({ body, url: inbox }), body), 400, 'invalid_encoding')
    })
  })

  it('after all of them: only what was well-formed applied, and the cursor moved by those alone', async () => {
    expect((await linkedTopics()).sort()).toEqual(['public:news:bad-replayed', 'public:news:good'])
    const body = peer.transaction(a.identity.did, 3, subscribe('public:news:third'))
    expect(await SigningPeer.post(a.url, peer.sign({ body, url: inbox }), body)).toEqual({
      status: 200,
      json: { cursor: 3, duplicate: false },
    })
  })
})

describe('activities that can never apply', () => {
  // After the inbox tests above, this peer's cursor at A is 3.
  const send = (seq: number, activity: Activity) => {
    const body = peer.transaction(a.identity.did, seq, activity)
    return SigningPeer.post(a.url, peer.sign({ body, url: inbox }), body)
  }

  it('are skipped: the cursor moves past each, nothing is linked, and what follows applies', async () => {
    const before = await linkedTopics()
    const envelope = new Uint8Array([0xa1, 0x61, 0x78, 0x01])
    const bad: Activity[] = [
      { t: ActivityType.DocSync, doc: 'notes-bad-sv', sv: new Uint8Array([0xff, 0xff, 0xff]), reply: false },
      { t: ActivityType.TopicMessage, topic: 'public:news:bad-envelope', envelope },
      { t: ActivityType.DocUpdate, doc: 'notes-not-linked', update: new Uint8Array([0, 0]) },
      ...splitDocUpdate('notes-not-linked', largeUpdate()),
      { t: ActivityType.Gap, after: 2 },
    ]
    let seq = 3
    for (const activity of bad) {
      seq++
      expect(await send(seq, activity)).toEqual({ status: 200, json: { cursor: seq, duplicate: false } })
    }
    expect(await send(seq + 1, subscribe('public:news:after-bad'))).toEqual({
      status: 200,
      json: { cursor: seq + 1, duplicate: false },
    })
    expect((await linkedTopics()).sort()).toEqual([...before, 'public:news:after-bad'].sort())
    expect((await statusOf(a)).links.filter((l) => l.kind === 'doc' && l.peer === peer.domain)).toEqual([])
  })
})

describe('discovery', () => {
  const discover = (caller: string) =>
    fetch(`${a.url}/v1/federation/discover?domain=${peer.domain}`, { headers: { 'CF-Connecting-IP': caller } })

  it('follows peer lists up to the limit, skipping a listed peer that is invalid; an invalid domain itself is refused', async () => {
    const [x, y, z, impostor] = [new SigningPeer(), new SigningPeer(), new SigningPeer(), new SigningPeer()]
    await Promise.all([x, y, z, impostor].map((p) => p.listen()))
    impostor.claims = y.domain
    x.peers = [y.domain, impostor.domain, z.domain]
    const found = async (domain: string, limit: number) => {
      const url = `${a.url}/v1/federation/discover?domain=${domain}&limit=${limit}`
      const response = await fetch(url, { headers: { 'CF-Connecting-IP': '198.51.100.20' } })
      return { status: response.status, json: (await response.json()) as { instances?: { did: string }[] } }
    }
    try {
      expect((await found(x.domain, 2)).json.instances?.map((i) => i.did)).toEqual([x.identity.did, y.identity.did])
      expect((await found(x.domain, 5)).json.instances?.map((i) => i.did)).toEqual([
        x.identity.did,
        y.identity.did,
        z.identity.did,
      ])
      expect(await found(impostor.domain, 5)).toEqual({
        status: 502,
        json: { error: { code: 'invalid_descriptor', message: expect.any(String) } },
      })
    } finally {
      await Promise.all([x, y, z, impostor].map((p) => p.close()))
    }
  })

  it('spends none of a caller’s budget on a domain that cannot be one', async () => {
    const caller = '198.51.100.9'
    for (let i = 0; i < DISCOVER_RATE_LIMIT.requests; i++) {
      const response = await fetch(`${a.url}/v1/federation/discover?domain=${encodeURIComponent('not a domain')}`, {
        headers: { 'CF-Connecting-IP': caller },
      })
      expect(response.status).toBe(400)
      await response.body?.cancel()
    }
    const good = await discover(caller)
    expect(good.status).toBe(200)
    await good.body?.cancel()
  })

  it('is refused to a caller past its rate limit with rate_limited, while another caller is still answered', async () => {
    let answered = 0
    let refused: Response | null = null
    // A hang guard, not a timing bound: the window is a minute, so the limit is reached well within it.
    for (let i = 0; i < 3 * DISCOVER_RATE_LIMIT.requests && refused === null; i++) {
      const response = await discover('198.51.100.7')
      if (response.status === 429) refused = response
      else {
        expect(response.status).toBe(200)
        await response.body?.cancel()
        answered++
      }
    }
    expect(answered).toBeGreaterThanOrEqual(DISCOVER_RATE_LIMIT.requests)
    expect(refused?.status).toBe(429)
    expect(await refused?.json()).toEqual({ error: { code: 'rate_limited', message: expect.any(String) } })
    const other = await discover('198.51.100.8')
    expect(other.status).toBe(200)
    expect(((await other.json()) as { instances: { did: string }[] }).instances.map((i) => i.did)).toEqual([
      peer.identity.did,
    ])
  })
})

describe('lanes', () => {
  it('takes each lane as a sequence of its own, and refuses a lane past 15', async () => {
    const body = peer.transaction(a.identity.did, 1, subscribe('public:news:lane-three'))
    const url = `${inbox}?lane=3`
    expect(await SigningPeer.post(a.url, peer.sign({ body, url }), body, '?lane=3')).toEqual({
      status: 200,
      json: { cursor: 1, duplicate: false },
    })
    const far = peer.transaction(a.identity.did, 1, subscribe('public:news:lane-far'))
    const farUrl = `${inbox}?lane=16`
    expectRefused(
      await SigningPeer.post(a.url, peer.sign({ body: far, url: farUrl }), far, '?lane=16'),
      400,
      'bad_request',
    )
  })
})
