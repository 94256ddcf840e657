import { env } from 'cloudflare:test'
import { exports } from 'cloudflare:workers'
import {
  type Action,
  createEnvelope,
  ErrorCode,
  encodeCapabilityText,
  encodeEnvelope,
  generateIdentity,
  type Identity,
} from '@vivim/shared'
import { describe, expect, it } from 'vitest'
import { edgeIdentity } from '../auth/edge-identity.ts'
import { DocPeer } from './doc-peer.ts'
import { invoke } from './doc-tokens.ts'
import { EDGE, refusal, SocketPeer } from './socket-peer.ts'

const _edge = edgeIdentity(env)
const alice = generateIdentity()
const bob = generateIdentity()
const mallory = generateIdentity()

/** A self-issued invocation: it proves ownership only of what its issuer owns or may create. */
const token = (issuer: Identity, res: string, can: Action[]) => encodeCapabilityText(invoke(issuer, res, can))

function publish(topic: string, author: Identity, credential: string): Promise<Response> {
  const body = encodeEnvelope(createEnvelope(author, { topic, payload: new Uint8Array([1]) }))
  return exports.default.fetch(
    new Request(`${EDGE}/v1/topics/${topic}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${credential}` },
      body,
    }),
  )
}

describe('ownership', () => {
  it('a read-only token on an unowned document or topic claims nothing; a later writer owns it', async () => {
    const docId = `circle:${crypto.randomUUID()}`
    const topic = `public:news:${crypto.randomUUID()}`
    expect(await refusal(`/v1/docs/${docId}?token=${token(mallory, `doc:${docId}`, ['read'])}`)).toEqual({
      status: 403,
      code: ErrorCode.Forbidden,
    })
    expect(await refusal(`/v1/topics/${topic}?token=${token(mallory, `topic:${topic}`, ['read'])}`)).toEqual({
      status: 403,
      code: ErrorCode.Forbidden,
    })
    const owner = await DocPeer.connect(docId, { token: token(alice, `doc:${docId}`, ['read', 'write']) })
    await owner.until(() => owner.synced)
    await SocketPeer.open(`/v1/topics/${topic}?token=${token(alice, `topic:${topic}`, ['write'])}`)
    expect(await refusal(`/v1/docs/${docId}?token=${token(mallory, `doc:${docId}`, ['read'])}`)).toEqual({
      status: 403,
      code: ErrorCode.NotOwner,
    })
    expect(await refusal(`/v1/topics/${topic}?token=${token(mallory, `topic:${topic}`, ['read'])}`)).toEqual({
      status: 403,
      code: ErrorCode.NotOwner,
    })
  })

  it('an HTTP publish to a topic nobody owns is refused 403 and claims nothing', async () => {
    const topic = `public:news:${crypto.randomUUID()}`
    const refused = await publish(topic, alice, token(alice, `topic:${topic}`, ['write']))
    expect(refused.status).toBe(403)
    const { error } = (await refused.json()) as { error: { code: string; message: string } }
    expect(error.code).toBe(ErrorCode.Forbidden)
    expect(error.message).toMatch(/nobody owns/)
    // Bob, connecting later with write, becomes the owner: Alice's publish claimed nothing.
    await SocketPeer.open(`/v1/topics/${topic}?token=${token(bob, `topic:${topic}`, ['write'])}`)
    expect((await publish(topic, bob, token(bob, `topic:${topic}`, ['write']))).status).toBe(200)
    expect((await publish(topic, alice, token(alice, `topic:${topic}`, ['write']))).status).toBe(403)
  })

  it('the sealed room of X and the circle’s topics follow the owner of document X', async () => {
    const id = crypto.randomUUID()
    const docId = `circle:${id}`
    const topic = `circle:messages:${id}`
    // A reader cannot create X through its sealed room or its topics.
    expect(await refusal(`/v1/sealed/${docId}?token=${token(mallory, `doc:${docId}`, ['read'])}`)).toEqual({
      status: 403,
      code: ErrorCode.Forbidden,
    })
    expect(await refusal(`/v1/topics/${topic}?token=${token(mallory, `topic:${topic}`, ['read'])}`)).toEqual({
      status: 403,
      code: ErrorCode.Forbidden,
    })
    // A writer opening the circle's topic first creates the circle itself: its owner is X's.
    await SocketPeer.open(`/v1/topics/${topic}?token=${token(alice, `topic:${topic}`, ['read', 'write'])}`)
    expect(await env.DOC_ROOM.getByName(docId).owner()).toBe(alice.did)
    expect(await env.TOPIC_ROOM.getByName(topic).owner()).toBeNull()
    for (const path of [`/v1/docs/${docId}`, `/v1/sealed/${docId}`]) {
      expect(await refusal(`${path}?token=${token(mallory, `doc:${docId}`, ['admin'])}`)).toEqual({
        status: 403,
        code: ErrorCode.NotOwner,
      })
    }
    expect(await refusal(`/v1/topics/${topic}?token=${token(mallory, `topic:${topic}`, ['admin'])}`)).toEqual({
      status: 403,
      code: ErrorCode.NotOwner,
    })
    await DocPeer.connect(docId, { token: token(alice, `doc:${docId}`, ['admin']) })
    await SocketPeer.open(`/v1/sealed/${docId}?token=${token(alice, `doc:${docId}`, ['write'])}`)
    expect((await publish(topic, alice, token(alice, `topic:${topic}`, ['write']))).status).toBe(200)
  })

  it('a writer opening the sealed room of an unowned document creates the document', async () => {
    const docId = `conversation:${crypto.randomUUID()}`
    await SocketPeer.open(`/v1/sealed/${docId}?token=${token(bob, `doc:${docId}`, ['read', 'write'])}`)
    expect(await env.DOC_ROOM.getByName(docId).owner()).toBe(bob.did)
    expect(await refusal(`/v1/docs/${docId}?token=${token(mallory, `doc:${docId}`, ['admin'])}`)).toEqual({
      status: 403,
      code: ErrorCode.NotOwner,
    })
  })
})
