import { env } from 'cloudflare:test'
import { Conversation, type ConversationMessage, ErrorCode, generateIdentity, Limits } from '@vivim/shared'
import { describe, expect, it } from 'vitest'
import type * as Y from 'yjs'
import { createApp } from '../app.ts'
import { type Caller, docHttp, editOf, postUpdate, readDoc, refused } from './doc-http-client.ts'
import { docToken, peerOf } from './doc-tokens.ts'
import { EDGE } from './socket-peer.ts'

const alice = generateIdentity()
const bob = generateIdentity()
const owner: Caller = { owner: alice, user: alice, can: ['read', 'write'] }
const fresh = () => `conversation:${crypto.randomUUID()}`
const msg = (id: string, author: string, text: string): ConversationMessage => ({ id, author, text, ts: 1 })
const texts = (doc: Y.Doc) =>
  Conversation.messages(doc)
    .toArray()
    .map((m) => m.text)
/** A caller granted `can` by Alice; a new identity each time, since a refused write keeps its identity out for a while. */
const grantee = (can: Caller['can']): Caller => ({ owner: alice, user: generateIdentity(), can })

/** A conversation Alice created and wrote to over a socket, which stays open to see what reaches it. */
async function conversation() {
  const docId = fresh()
  const a = await peerOf(alice, alice, docId)
  Conversation.append(a.doc, msg('1', alice.did, 'one'))
  await a.until(() => a.updatesReceived >= 2)
  return { docId, a }
}

/** Bob's message, as an update a replica of the document makes. */
async function bobsMessage(docId: string, caller: Caller): Promise<Uint8Array> {
  return editOf(await readDoc(docId, caller), (d) => Conversation.append(d, msg('b', bob.did, 'from bob')))
}

describe('documents over HTTP refuse what a socket would', () => {
  it('no token outside development, a malformed token, a token for another document', async () => {
    const { docId } = await conversation()
    const production = { ...env, VIVIM_ENV: 'production' }
    const plain = await createApp().request(`${EDGE}/v1/docs/${docId}/update`, {}, production)
    expect(await refused(plain)).toEqual({ status: 401, code: ErrorCode.Unauthorized })
    const headers = { Authorization: 'Bearer not-a-token' }
    expect(await refused(docHttp(docId, '/update', null, { headers }))).toEqual({
      status: 401,
      code: ErrorCode.InvalidToken,
    })
    const elsewhere = { Authorization: `Bearer ${docToken(alice, alice, fresh(), ['read', 'write'])}` }
    expect((await refused(docHttp(docId, '/json', null, { headers: elsewhere }))).status).toBe(403)
    const post = { method: 'POST', body: new Uint8Array([0, 0]) }
    const write = await createApp().request(`${EDGE}/v1/docs/${docId}/update`, post, production)
    expect(await refused(write)).toEqual({ status: 401, code: ErrorCode.Unauthorized })
  })

  it('a write-only credential reading, a read-only one writing', async () => {
    const { docId, a } = await conversation()
    expect(await refused(docHttp(docId, '/update', grantee(['write'])))).toEqual({ status: 403, code: 'forbidden' })
    const reader = grantee(['read'])
    expect(await refused(postUpdate(docId, reader, await bobsMessage(docId, reader)))).toEqual({
      status: 403,
      code: 'forbidden',
    })
    expect(texts(a.doc)).toEqual(['one'])
  })

  it('a DID writing what the type’s rules forbid, then kept out for a while as a socket would be', async () => {
    const { docId, a } = await conversation()
    const mallory = grantee(['read', 'write'])
    // A message whose author is not the writer.
    const forged = editOf(await readDoc(docId, mallory), (d) => Conversation.append(d, msg('f', alice.did, 'forged')))
    expect(await refused(postUpdate(docId, mallory, forged))).toEqual({ status: 403, code: 'forbidden' })
    const honest = editOf(await readDoc(docId, mallory), (d) =>
      Conversation.append(d, msg('h', mallory.user.did, 'honest')),
    )
    expect(await refused(postUpdate(docId, mallory, honest))).toEqual({ status: 429, code: 'rate_limited' })
    // The schema: a message without its text.
    const broken = editOf(await readDoc(docId, owner), (d) => Conversation.messages(d).push([{ id: 'x' } as never]))
    expect(await refused(postUpdate(docId, grantee(['write']), broken))).toEqual({ status: 400, code: 'bad_request' })
    expect(texts(await readDoc(docId, owner))).toEqual(['one'])
    expect(texts(a.doc)).toEqual(['one'])
  })

  it('an update that writes with a Yjs client id another identity owns', async () => {
    const { docId, a } = await conversation()
    const thief = grantee(['read', 'write'])
    const update = editOf(
      await readDoc(docId, thief),
      (d) => Conversation.append(d, msg('t', thief.user.did, 'as alice’s client')),
      a.doc.clientID,
    )
    expect(await refused(postUpdate(docId, thief, update))).toEqual({ status: 403, code: 'forbidden' })
    expect(texts(await readDoc(docId, owner))).toEqual(['one'])
  })

  it('a body over the edge’s limit, junk, and an empty body', async () => {
    const { docId } = await conversation()
    const writer = grantee(['read', 'write'])
    // Messages of legal size, too many of them for one request body.
    const many = Math.ceil(Limits.maxRequestBodyBytes / 16_000) + 1
    const big = editOf(await readDoc(docId, writer), (d) => {
      for (let i = 0; i < many; i++) Conversation.append(d, msg(`big${i}`, writer.user.did, 'x'.repeat(16_000)))
    })
    expect(await refused(postUpdate(docId, writer, big))).toEqual({ status: 413, code: 'payload_too_large' })
    const junk = new TextEncoder().encode('this is not a Yjs update')
    expect(await refused(postUpdate(docId, writer, junk))).toEqual({ status: 400, code: 'bad_request' })
    expect(await refused(postUpdate(docId, writer, new Uint8Array(0)))).toEqual({ status: 400, code: 'bad_request' })
    // None of these cost the writer its next write: they never reached the room.
    const fine = editOf(await readDoc(docId, writer), (d) => Conversation.append(d, msg('w', writer.user.did, 'fine')))
    expect((await postUpdate(docId, writer, fine)).status).toBe(200)
  })

  it('only the owner deletes: a stranger and a grantee, even with admin, are refused', async () => {
    const { docId, a } = await conversation()
    const stranger = generateIdentity()
    const strangers: Caller = { owner: stranger, user: stranger, can: ['read', 'write', 'admin'] }
    expect(await refused(docHttp(docId, '', strangers, { method: 'DELETE' }))).toEqual({
      status: 403,
      code: ErrorCode.NotOwner,
    })
    const admin = grantee(['read', 'write', 'admin'])
    expect(await refused(docHttp(docId, '', admin, { method: 'DELETE' }))).toEqual({ status: 403, code: 'forbidden' })
    expect(texts(await readDoc(docId, owner))).toEqual(['one'])
    expect(a.closed).toBeNull()
  })
})
