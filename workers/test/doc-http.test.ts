import { env, runInDurableObject } from 'cloudflare:test'
import { base64urlnopad } from '@scure/base'
import { CloseCode, Conversation, type ConversationMessage, ErrorCode, generateIdentity } from '@vivim/shared'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { DocRoom } from '../relay/doc-room.ts'
import type { DocStore } from '../relay/doc-store.ts'
import { type Caller, docHttp, editOf, postUpdate, readDoc, refused } from './doc-http-client.ts'
import { docToken, peerOf } from './doc-tokens.ts'
import { refusal } from './socket-peer.ts'

const alice = generateIdentity()
const bob = generateIdentity()
const carol = generateIdentity()
const owner: Caller = { owner: alice, user: alice, can: ['read', 'write'] }
const bobReads: Caller = { owner: alice, user: bob, can: ['read'] }
const bobWrites: Caller = { owner: alice, user: bob, can: ['read', 'write'] }
const fresh = () => `conversation:${crypto.randomUUID()}`
const msg = (id: string, author: string, text: string): ConversationMessage => ({ id, author, text, ts: 1 })
const texts = (doc: Y.Doc) =>
  Conversation.messages(doc)
    .toArray()
    .map((m) => m.text)
const bytes = async (res: Response) => new Uint8Array(await res.arrayBuffer())

/** A conversation Alice created over a socket, with two messages and a title; her peer stays connected. */
async function conversation() {
  const docId = fresh()
  const a = await peerOf(alice, alice, docId)
  a.doc.transact(() => {
    Conversation.append(a.doc, msg('1', alice.did, 'one'))
    Conversation.append(a.doc, msg('2', alice.did, 'two'))
    Conversation.meta(a.doc).set('title', 'plans')
  })
  // After sync step 2, the room's echo of the write: it is stored.
  await a.until(() => a.updatesReceived >= 2)
  return { docId, a }
}

describe('documents over HTTP: reads', () => {
  it('answers the document as a Yjs update, as its state vector, as what a state vector lacks, and as JSON', async () => {
    const { docId, a } = await conversation()

    const update = await docHttp(docId, '/update', bobReads)
    expect(update.status).toBe(200)
    expect(update.headers.get('content-type')).toBe('application/octet-stream')
    const copy = new Y.Doc()
    Y.applyUpdate(copy, await bytes(update))
    expect(texts(copy)).toEqual(['one', 'two'])

    const vector = await docHttp(docId, '/state-vector', bobReads)
    expect(vector.headers.get('content-type')).toBe('application/octet-stream')
    expect(Y.decodeStateVector(await bytes(vector))).toEqual(Y.decodeStateVector(Y.encodeStateVector(a.doc)))

    // A replica that holds the first message asks only for what it lacks.
    const behind = new Y.Doc()
    Y.applyUpdate(behind, Y.encodeStateAsUpdate(copy))
    Conversation.append(a.doc, msg('3', alice.did, 'three'))
    await a.until(() => a.updatesReceived >= 3)
    const since = base64urlnopad.encode(Y.encodeStateVector(behind))
    const diff = await bytes(await docHttp(docId, `/update?since=${since}`, bobReads))
    expect(diff.length).toBeLessThan(Y.encodeStateAsUpdate(a.doc).length)
    Y.applyUpdate(behind, diff)
    expect(texts(behind)).toEqual(['one', 'two', 'three'])

    const json = await docHttp(docId, '/json', bobReads)
    expect(json.headers.get('content-type')).toContain('application/json')
    expect(await json.json()).toEqual({
      messages: [msg('1', alice.did, 'one'), msg('2', alice.did, 'two'), msg('3', alice.did, 'three')],
      meta: { title: 'plans' },
    })
  })

  it('refuses a bad since, JSON of a free-form document, and a document nobody created', async () => {
    const { docId } = await conversation()
    expect(await refused(docHttp(docId, '/update?since=***', bobReads))).toEqual({ status: 400, code: 'bad_request' })
    const notes = `notes-${crypto.randomUUID()}`
    await peerOf(alice, alice, notes)
    expect((await docHttp(notes, '/update', owner)).status).toBe(200)
    expect(await refused(docHttp(notes, '/json', owner))).toEqual({ status: 400, code: 'bad_request' })
    // Nobody owns it: not found, with a credential or (development mode) without one, and nothing is created.
    const nobody = fresh()
    expect(await refused(docHttp(nobody, '/update', owner))).toEqual({ status: 404, code: ErrorCode.NotFound })
    expect(await refused(docHttp(nobody, '/json', null))).toEqual({ status: 404, code: ErrorCode.NotFound })
    expect(await refused(postUpdate(nobody, owner, new Uint8Array([0, 0])))).toEqual({ status: 404, code: 'not_found' })
    expect(await env.DOC_ROOM.getByName(nobody).owner()).toBeNull()
  })
})

describe('documents over HTTP: writes', () => {
  it('stores a writer’s update before answering, and the live socket receives it', async () => {
    const { docId, a } = await conversation()
    const update = editOf(await readDoc(docId, bobWrites), (d) => Conversation.append(d, msg('b', bob.did, 'from bob')))
    const res = await postUpdate(docId, bobWrites, update)
    expect(res.status).toBe(200)
    const answer = (await res.json()) as { complete: boolean; stateVector: string }
    expect(answer.complete).toBe(true)
    const room = env.DOC_ROOM.getByName(docId)
    // Stored when answered: the room's SQLite holds it.
    await runInDurableObject(room, (instance: DocRoom) => {
      const stored = (instance as unknown as { live: { store: DocStore } }).live.store.load()
      const doc = new Y.Doc()
      for (const u of [stored.snapshot, ...stored.updates]) if (u) Y.applyUpdate(doc, u)
      expect(texts(doc)).toContain('from bob')
    })
    await a.until(() => texts(a.doc).includes('from bob'))
    expect(Y.decodeStateVector(base64urlnopad.decode(answer.stateVector))).toEqual(
      Y.decodeStateVector(Y.encodeStateVector(a.doc)),
    )
  })

  it('says when part of an update depended on content it lacks, and takes the rest against its state vector', async () => {
    const { docId, a } = await conversation()
    const replica = await readDoc(docId, bobWrites)
    const updates: Uint8Array[] = []
    replica.on('update', (u: Uint8Array) => updates.push(u))
    Conversation.append(replica, msg('b1', bob.did, 'first'))
    Conversation.append(replica, msg('b2', bob.did, 'second'))
    const partial = (await (await postUpdate(docId, bobWrites, updates[1] as Uint8Array)).json()) as {
      complete: boolean
      stateVector: string
    }
    expect(partial.complete).toBe(false)
    const rest = Y.encodeStateAsUpdate(replica, base64urlnopad.decode(partial.stateVector))
    const done = (await (await postUpdate(docId, bobWrites, rest)).json()) as { complete: boolean }
    expect(done.complete).toBe(true)
    await a.until(() => texts(a.doc).includes('second'))
    expect(texts(a.doc)).toEqual(['one', 'two', 'first', 'second'])
  })
})

describe('documents over HTTP: delete', () => {
  it('the owner deletes: sockets closed with 4410, content and versions gone, the name still the owner’s', async () => {
    const { docId, a } = await conversation()
    const b = await peerOf(alice, bob, docId, ['read'])
    const named = await docHttp(docId, '/versions', owner, { method: 'POST', body: JSON.stringify({ name: 'v' }) })
    expect(named.status).toBe(201)

    expect((await docHttp(docId, '', owner, { method: 'DELETE' })).status).toBe(204)
    expect((await a.closedWith()).code).toBe(CloseCode.DocumentDeleted)
    expect((await b.closedWith()).code).toBe(CloseCode.DocumentDeleted)
    expect(await refused(docHttp(docId, '/update', owner))).toEqual({ status: 404, code: 'not_found' })
    expect(await refused(docHttp(docId, '', owner, { method: 'DELETE' }))).toEqual({ status: 404, code: 'not_found' })
    expect(await (await docHttp(docId, '/versions', owner)).json()).toEqual({ versions: [] })

    // Nobody else can claim the name.
    expect(await env.DOC_ROOM.getByName(docId).owner()).toBe(alice.did)
    const squat = `?token=${encodeURIComponent(docToken(carol, carol, docId, ['read', 'write']))}`
    expect(await refusal(`/v1/docs/${docId}${squat}`, {})).toEqual({ status: 403, code: ErrorCode.NotOwner })

    // Its owner starts it again from nothing.
    const again = await peerOf(alice, alice, docId)
    expect(texts(again.doc)).toEqual([])
    Conversation.append(again.doc, msg('n', alice.did, 'new'))
    await again.until(() => again.updatesReceived >= 2)
    expect(await (await docHttp(docId, '/json', bobReads)).json()).toEqual({
      messages: [msg('n', alice.did, 'new')],
      meta: {},
    })
  })
})
