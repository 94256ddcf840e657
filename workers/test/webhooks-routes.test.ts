/**
 * Webhook routes in workerd, with real capability tokens: the owner (or an
 * admin grant) subscribes, lists and deletes; everyone else, bad URLs,
 * private addresses in production and subscriptions past the bounds are
 * refused with the code the protocol names.
 */
import { env, runInDurableObject } from 'cloudflare:test'
import { exports } from 'cloudflare:workers'
import { encodeCapabilityText, generateIdentity, type Identity, issueCapability } from '@vivim/shared'
import { describe, expect, it } from 'vitest'
import { createApp } from '../app.ts'
import { edgeIdentity } from '../auth/edge-identity.ts'
import { isPublicHost } from '../webhooks/target-url.ts'
import { docToken, peerOf } from './doc-tokens.ts'
import { EDGE } from './socket-peer.ts'

const alice = generateIdentity()
const bob = generateIdentity()
const fresh = () => `notes:${crypto.randomUUID()}`
const HOOK = 'https://hooks.example/vivim'

/** An owned document: its owner's write connect claims it. */
async function ownedDoc(owner: Identity = alice): Promise<string> {
  const docId = fresh()
  const peer = await peerOf(owner, owner, docId)
  peer.close()
  return docId
}

function api(path: string, token: string | null, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers)
  if (token !== null) headers.set('Authorization', `Bearer ${token}`)
  return exports.default.fetch(new Request(`${EDGE}${path}`, { ...init, headers }))
}

function subscribe(token: string | null, body: Record<string, unknown>): Promise<Response> {
  return api('/v1/webhooks', token, { method: 'POST', body: JSON.stringify(body) })
}

async function errorCode(res: Response): Promise<string> {
  return ((await res.json()) as { error: { code: string } }).error.code
}

describe('webhook routes', () => {
  it('the owner subscribes a document, lists it with its status and deliveries, and deletes it', async () => {
    const docId = await ownedDoc()
    const token = docToken(alice, alice, docId, ['read', 'write'])
    const created = await subscribe(token, { resource: `doc:${docId}`, url: HOOK, debounceMs: 500, maxWaitMs: 5000 })
    expect(created.status).toBe(201)
    const { webhook } = (await created.json()) as { webhook: { id: string } }
    expect(webhook).toMatchObject({
      resource: `doc:${docId}`,
      event: 'doc.changed',
      url: HOOK,
      debounceMs: 500,
      maxWaitMs: 5000,
      status: { state: 'active', pending: 0, delivered: 0, failed: 0, dropped: 0, suspended: null },
    })
    const listed = await api(`/v1/webhooks?resource=${encodeURIComponent(`doc:${docId}`)}`, token)
    expect(((await listed.json()) as { webhooks: { id: string }[] }).webhooks.map((w) => w.id)).toEqual([webhook.id])
    const deliveries = await api(`/v1/webhooks/${webhook.id}/deliveries`, token)
    expect(await deliveries.json()).toEqual({ webhook: webhook.id, deliveries: [] })

    expect((await api(`/v1/webhooks/${webhook.id}`, token, { method: 'DELETE' })).status).toBe(204)
    const after = await api(`/v1/webhooks?resource=${encodeURIComponent(`doc:${docId}`)}`, token)
    expect(await after.json()).toEqual({ webhooks: [] })
    expect((await api(`/v1/webhooks/${webhook.id}`, token)).status).toBe(404)
  })

  it('an admin grant may subscribe; a grantee that may read and write may not, nor may a stranger', async () => {
    const docId = await ownedDoc()
    const resource = `doc:${docId}`
    const admin = await subscribe(docToken(alice, bob, docId, ['admin']), { resource, url: HOOK })
    expect(admin.status).toBe(201)
    const { webhook } = (await admin.json()) as { webhook: { id: string } }

    const writer = docToken(alice, bob, docId, ['read', 'write'])
    const refused = await subscribe(writer, { resource, url: HOOK })
    expect([refused.status, await errorCode(refused)]).toEqual([403, 'forbidden'])
    const listing = await api(`/v1/webhooks?resource=${encodeURIComponent(resource)}`, writer)
    expect(listing.status).toBe(403)
    expect((await api(`/v1/webhooks/${webhook.id}/deliveries`, writer)).status).toBe(403)
    expect((await api(`/v1/webhooks/${webhook.id}`, writer, { method: 'DELETE' })).status).toBe(403)

    // A stranger's own chain is not rooted in the owner.
    const stranger = await subscribe(docToken(bob, bob, docId, ['read', 'write']), { resource, url: HOOK })
    expect([stranger.status, await errorCode(stranger)]).toEqual([403, 'not_owner'])
    // A document nobody owns has no webhooks, and subscribing does not create it.
    const unowned = await subscribe(docToken(bob, bob, fresh(), ['admin']), { resource: `doc:${fresh()}`, url: HOOK })
    expect(unowned.status).toBe(403)
  })

  it('refuses bad requests: a bad resource, an event the resource has not, bad debounce, bad URLs', async () => {
    const docId = await ownedDoc()
    const token = docToken(alice, alice, docId, ['read', 'write'])
    const resource = `doc:${docId}`
    const cases: Record<string, unknown>[] = [
      { resource: 'record:x', url: HOOK },
      { resource: 'doc:*', url: HOOK },
      { resource, url: HOOK, event: 'circle.members' },
      { resource, url: HOOK, event: 'topic.message' },
      { resource, url: HOOK, debounceMs: 5 },
      { resource, url: HOOK, maxWaitMs: 'soon' },
      { resource, url: 'not a url' },
      { resource, url: 'ftp://hooks.example/x' },
      { resource, url: 'https://user:secret@hooks.example/x' },
      { resource, url: `https://hooks.example/${'x'.repeat(2100)}` },
      { resource, url: `${EDGE}/v1/topics/loop` },
    ]
    for (const body of cases) {
      const res = await subscribe(token, body)
      expect([res.status, await errorCode(res)], JSON.stringify(body).slice(0, 120)).toEqual([400, 'bad_request'])
    }
    const junk = await api('/v1/webhooks', token, { method: 'POST', body: '{' })
    expect(junk.status).toBe(400)
    expect((await api('/v1/webhooks/not-an-id/deliveries', token)).status).toBe(404)
  })

  it('in production, refuses http, loopback, private and local addresses', async () => {
    const docId = await ownedDoc()
    const production = { ...env, VIVIM_ENV: 'production' }
    const app = createApp()
    const token = docToken(alice, alice, docId, ['read', 'write'])
    for (const url of [
      'http://hooks.example/x',
      'https://127.0.0.1/x',
      'https://localhost:8443/x',
      'https://[::1]/x',
      'https://10.1.2.3/x',
      'https://169.254.169.254/latest/meta-data',
      'https://[::ffff:192.168.0.1]/x',
      'https://0x7f000001/x',
      'https://printer.local/x',
      'https://intranet/x',
    ]) {
      const res = await app.request(
        '/v1/webhooks',
        {
          method: 'POST',
          body: JSON.stringify({ resource: `doc:${docId}`, url }),
          headers: { Authorization: `Bearer ${token}` },
        },
        production,
      )
      expect([res.status, await errorCode(res)], url).toEqual([400, 'bad_request'])
    }
    const ok = await app.request(
      '/v1/webhooks',
      {
        method: 'POST',
        body: JSON.stringify({ resource: `doc:${docId}`, url: HOOK }),
        headers: { Authorization: `Bearer ${token}` },
      },
      production,
    )
    expect(ok.status).toBe(201)
  })

  it('judges addresses as public only when they are', () => {
    const local = ['127.0.0.1', '10.0.0.1', '172.16.5.4', '192.168.1.1', '100.64.0.1', '0.0.0.0', '224.0.0.1']
    const local6 = ['[::1]', '[::]', '[fd00::1]', '[fe80::1]', '[::ffff:7f00:1]', '[64:ff9b::a00:1]', '[2001:db8::1]']
    for (const host of [...local, ...local6, 'localhost', 'a.localhost', 'box.internal', 'router.lan', 'nodots']) {
      expect(isPublicHost(host), host).toBe(false)
    }
    for (const host of [
      'hooks.example.com',
      '93.184.216.34',
      '[2606:4700::1111]',
      '[::ffff:5db8:d822]',
      '172.32.0.1',
    ]) {
      expect(isPublicHost(host), host).toBe(true)
    }
  })

  it('holds at most 16 webhooks a resource and 32 an owner', async () => {
    const carol = generateIdentity()
    const docs = [await ownedDoc(carol), await ownedDoc(carol), await ownedDoc(carol)]
    const tokenFor = (docId: string) => docToken(carol, carol, docId, ['read', 'write'])
    const fill = async (docId: string, n: number) => {
      for (let i = 0; i < n; i++) {
        const res = await subscribe(tokenFor(docId), { resource: `doc:${docId}`, url: `${HOOK}/${i}` })
        expect(res.status).toBe(201)
      }
    }
    const [a, b, c] = docs as [string, string, string]
    await fill(a, 16)
    const seventeenth = await subscribe(tokenFor(a), { resource: `doc:${a}`, url: HOOK })
    expect([seventeenth.status, await errorCode(seventeenth)]).toEqual([429, 'rate_limited'])
    await fill(b, 16)
    const past = await subscribe(tokenFor(c), { resource: `doc:${c}`, url: HOOK })
    expect([past.status, await errorCode(past)]).toEqual([429, 'rate_limited'])
    // What the owner holds is released by a delete, and the refused ones left nothing behind.
    const listed = await api(`/v1/webhooks?resource=${encodeURIComponent(`doc:${a}`)}`, tokenFor(a))
    const ids = ((await listed.json()) as { webhooks: { id: string }[] }).webhooks.map((w) => w.id)
    expect(ids).toHaveLength(16)
    expect((await api(`/v1/webhooks/${ids[0]}`, tokenFor(a), { method: 'DELETE' })).status).toBe(204)
    expect((await subscribe(tokenFor(c), { resource: `doc:${c}`, url: HOOK })).status).toBe(201)
  })

  it('a topic is subscribed by its owner', async () => {
    const topic = `public:news:${crypto.randomUUID()}`
    const owner = generateIdentity()
    const token = encodeCapabilityText(
      issueCapability(owner, {
        aud: edgeIdentity(env).did,
        res: `topic:${topic}`,
        can: ['read', 'write'],
        exp: Date.now() + 3_600_000,
      }),
    )
    // Nobody owns it yet: refused, and not created.
    const early = await subscribe(token, { resource: `topic:${topic}`, url: HOOK })
    expect(early.status).toBe(403)
    const claim = await exports.default.fetch(
      new Request(`${EDGE}/v1/topics/${topic}?token=${encodeURIComponent(token)}`, {
        headers: { Upgrade: 'websocket' },
      }),
    )
    claim.webSocket?.accept()
    claim.webSocket?.close()
    const res = await subscribe(token, { resource: `topic:${topic}`, url: HOOK })
    expect(res.status).toBe(201)
    expect(((await res.json()) as { webhook: unknown }).webhook).toMatchObject({
      event: 'topic.message',
      debounceMs: null,
      maxWaitMs: null,
    })
    // A topic's messages are queued as they come: its resource object has nothing to wake up for.
    const resource = env.WEBHOOK_RESOURCE.getByName(`topic:${topic}`)
    expect(await runInDurableObject(resource, (_, state) => state.storage.getAlarm())).toBeNull()
  })
})
