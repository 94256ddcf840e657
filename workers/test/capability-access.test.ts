import { env } from 'cloudflare:test'
import { exports } from 'cloudflare:workers'
import { type Capability, CloseCode, ErrorCode, encodeCapabilityText, generateIdentity } from '@vivim/shared'
import { describe, expect, it } from 'vitest'
import { edgeIdentity } from '../auth/edge-identity.ts'
import { authorize } from '../http/access.ts'
import { DocPeer } from './doc-peer.ts'
import { invoke, revoke } from './doc-tokens.ts'
import { EDGE, refusal, SocketPeer, upgrade } from './socket-peer.ts'

const edge = edgeIdentity(env)
const alice = generateIdentity()
const bob = generateIdentity()
const carol = generateIdentity()
const mallory = generateIdentity()
const HOUR = 3_600_000

function refused(docId: string, token: Capability | string): Promise<{ status: number; code: string }> {
  const text = typeof token === 'string' ? token : encodeCapabilityText(token)
  return refusal(`/v1/docs/${docId}?token=${text}`)
}

const connect = (docId: string, token: Capability) => DocPeer.connect(docId, { token: encodeCapabilityText(token) })

describe('capabilities at the relay', () => {
  it('the edge tells clients its DID', async () => {
    const res = await exports.default.fetch(new Request(`${EDGE}/v1/edge`))
    expect(await res.json()).toEqual({ did: edge.did })
  })

  it('an owner writes its profile; nobody else gets in without a grant', async () => {
    const docId = `profile:${alice.did}`
    const peer = await connect(docId, invoke(alice, `doc:${docId}`, ['read', 'write']))
    await peer.until(() => peer.synced)
    expect(await refused(docId, invoke(bob, `doc:${docId}`, ['read']))).toEqual({
      status: 403,
      code: ErrorCode.NotOwner,
    })
  })

  it('refuses forged, tampered, expired, not-yet-valid, wrong-audience and over-attenuated tokens, each with its code', async () => {
    const docId = `profile:${alice.did}`
    const res = `doc:${docId}`
    const forged = invoke(bob, res, ['write'], { prf: invoke(mallory, res, ['admin'], { aud: bob.did }) })
    const good = invoke(alice, res, ['read'])
    const tampered = encodeCapabilityText({ ...good, can: ['read', 'write'] })
    const expired = invoke(alice, res, ['read'], { exp: Date.now() - 1, nbf: Date.now() - HOUR })
    const early = invoke(alice, res, ['read'], { nbf: Date.now() + HOUR, exp: Date.now() + 2 * HOUR })
    const elsewhere = invoke(alice, res, ['read'], { aud: mallory.did })
    const toBob = invoke(alice, res, ['read'], { aud: bob.did })
    const greedy = invoke(bob, res, ['read', 'write'], { prf: toBob })
    expect(await refused(docId, forged)).toEqual({ status: 403, code: ErrorCode.NotOwner })
    expect(await refused(docId, tampered)).toEqual({ status: 400, code: ErrorCode.InvalidSignature })
    expect(await refused(docId, expired)).toEqual({ status: 401, code: ErrorCode.TokenExpired })
    expect(await refused(docId, early)).toEqual({ status: 401, code: ErrorCode.TokenNotYetValid })
    expect(await refused(docId, elsewhere)).toEqual({ status: 401, code: ErrorCode.WrongAudience })
    expect(await refused(docId, greedy)).toEqual({ status: 403, code: ErrorCode.OverAttenuated })
    expect(await refused(docId, 'not-a-token')).toEqual({ status: 401, code: ErrorCode.InvalidToken })
  })

  it('a three-link delegation chain works on a circle its creator owns', async () => {
    const docId = `circle:${crypto.randomUUID()}`
    const res = `doc:${docId}`
    const creator = await connect(docId, invoke(alice, res, ['admin']))
    await creator.until(() => creator.synced)
    const toBob = invoke(alice, res, ['admin'], { aud: bob.did })
    const toCarol = invoke(bob, res, ['read', 'write'], { aud: carol.did, prf: toBob })
    // A circle's meta is written by its owner or admins (doc-rules.ts): the chain grants the socket, the role the key.
    creator.doc.getMap('members').set(carol.did, { role: 'admin', joinedAt: Date.now() })
    const peer = await connect(docId, invoke(carol, res, ['read', 'write'], { prf: toCarol }))
    await peer.until(() => peer.doc.getMap('members').has(carol.did))
    peer.doc.getMap('meta').set('name', 'Book club')
    await creator.until(() => creator.doc.getMap('meta').get('name') === 'Book club')
    expect(await refused(docId, invoke(mallory, res, ['admin']))).toEqual({ status: 403, code: ErrorCode.NotOwner })
  })

  it('a read-only grant cannot write', async () => {
    const docId = `circle:${crypto.randomUUID()}`
    const res = `doc:${docId}`
    const owner = await connect(docId, invoke(alice, res, ['admin']))
    const reader = await connect(
      docId,
      invoke(bob, res, ['read'], { prf: invoke(alice, res, ['read'], { aud: bob.did }) }),
    )
    await reader.until(() => reader.synced)
    // A key of its own: had it written `name`, its refused local value could shadow the owner's.
    reader.doc.getMap('meta').set('description', 'hijacked')
    await reader.until(() => reader.denied.length === 1)
    owner.doc.getMap('meta').set('name', 'Book club')
    await reader.until(() => reader.doc.getMap('meta').get('name') === 'Book club')
    expect(owner.doc.getMap('meta').has('description')).toBe(false)
  })

  it('closes a socket when its token expires', async () => {
    const docId = `profile:${alice.did}`
    const peer = await connect(docId, invoke(alice, `doc:${docId}`, ['read'], { exp: Date.now() + 1000 }))
    expect(await peer.closedWith()).toMatchObject({ code: CloseCode.TokenExpired })
  })

  it('a revocation closes the live sockets that used the token and refuses it from then on', async () => {
    const docId = `circle:${crypto.randomUUID()}`
    const res = `doc:${docId}`
    await connect(docId, invoke(alice, res, ['admin']))
    const toBob = invoke(alice, res, ['read', 'write', 'admin'], { aud: bob.did })
    const bobsInvocation = invoke(bob, res, ['write'], { prf: toBob })
    const peer = await connect(docId, bobsInvocation)
    await peer.until(() => peer.synced)
    expect((await revoke(alice, toBob)).status).toBe(200)
    expect(await peer.closedWith()).toMatchObject({ code: CloseCode.Unauthorized })
    expect(await refused(docId, invoke(bob, res, ['read'], { prf: toBob }))).toEqual({
      status: 401,
      code: ErrorCode.TokenRevoked,
    })
  })

  it('a revocation also closes sockets of topics and sealed documents', async () => {
    // The circle's topic and the sealed twin of its document both follow the circle document's owner.
    const sealed = `circle:${crypto.randomUUID()}`
    const topic = `circle:messages:${sealed.slice('circle:'.length)}`
    const toBob = (res: string) => invoke(alice, res, ['read', 'admin'], { aud: bob.did })
    const grants = { topic: toBob(`topic:${topic}`), sealed: toBob(`doc:${sealed}`) }
    await connect(sealed, invoke(alice, `doc:${sealed}`, ['admin']))
    const sockets = [
      await SocketPeer.open(
        `/v1/topics/${topic}?token=${encodeCapabilityText(invoke(bob, `topic:${topic}`, ['read'], { prf: grants.topic }))}`,
      ),
      await SocketPeer.open(
        `/v1/sealed/${sealed}?token=${encodeCapabilityText(invoke(bob, `doc:${sealed}`, ['read'], { prf: grants.sealed }))}`,
      ),
    ]
    const closed = sockets.map(async (socket) => (await socket.closedWith()).code)
    for (const grant of Object.values(grants)) expect((await revoke(alice, grant)).status).toBe(200)
    expect(await Promise.all(closed)).toEqual([CloseCode.Unauthorized, CloseCode.Unauthorized])
  })

  it('a socket admitted at the same moment as the revocation of its token is refused or closed, never left open', async () => {
    const docId = `circle:${crypto.randomUUID()}`
    const res = `doc:${docId}`
    await connect(docId, invoke(alice, res, ['admin']))
    const toBob = invoke(alice, res, ['read', 'write'], { aud: bob.did })
    const token = encodeCapabilityText(invoke(bob, res, ['read'], { prf: toBob }))
    // Connects before, alongside and after the revocation, all in flight together.
    const attempt = () => upgrade(`/v1/docs/${docId}?token=${token}`)
    const early = Array.from({ length: 10 }, attempt)
    const revoked = revoke(alice, toBob)
    const late = Array.from({ length: 10 }, attempt)
    expect((await revoked).status).toBe(200)
    const outcomes = await Promise.all(
      [...early, ...late].map(async (pending) => {
        const res = await pending
        if (!res.webSocket) return `refused ${res.status}`
        return `closed ${(await SocketPeer.accept(res.webSocket).closedWith()).code}`
      }),
    )
    for (const outcome of outcomes)
      expect(outcome).toMatch(new RegExp(`^(refused 401|closed ${CloseCode.Unauthorized})$`))
  })

  it('refuses a revocation by someone outside the chain', async () => {
    const toBob = invoke(alice, 'doc:x', ['read'], { aud: bob.did })
    expect((await revoke(mallory, toBob)).status).toBe(403)
  })

  it('outside development mode, no token means no access', async () => {
    const request = new Request(`${EDGE}/v1/docs/x`)
    await expect(authorize(request, { ...env, VIVIM_ENV: 'production' }, 'doc:x')).rejects.toMatchObject({
      code: ErrorCode.Unauthorized,
    })
  })
})
