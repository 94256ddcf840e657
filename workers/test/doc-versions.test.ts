import { env, runInDurableObject } from 'cloudflare:test'
import { exports } from 'cloudflare:workers'
import { type Action, Conversation, type ConversationMessage, generateIdentity, type Identity } from '@vivim/shared'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { DocRoom } from '../relay/doc-room.ts'
import { MAX_NAMED_VERSIONS, QUIET_MS, type VersionInfo } from '../relay/doc-versions.ts'
import type { DocPeer } from './doc-peer.ts'
import { docToken, peerOf } from './doc-tokens.ts'
import { EDGE } from './socket-peer.ts'

const alice = generateIdentity()
const bob = generateIdentity()
const carol = generateIdentity()
const fresh = () => `conversation:${crypto.randomUUID()}`
const msg = (id: string, author: string, text: string): ConversationMessage => ({ id, author, text, ts: 1 })
const texts = (doc: Y.Doc) =>
  Conversation.messages(doc)
    .toArray()
    .map((m) => m.text)

/** An HTTP call to the edge with `user`'s credential for the document (granted by Alice, its owner). */
function api(docId: string, path: string, user: Identity | null, can: Action[], init: RequestInit = {}) {
  const headers = new Headers(init.headers)
  if (user !== null) headers.set('Authorization', `Bearer ${docToken(alice, user, docId, can)}`)
  return exports.default.fetch(new Request(`${EDGE}/v1/docs/${docId}/versions${path}`, { ...init, headers }))
}

const nameVersion = (docId: string, name: string, user: Identity = alice) =>
  api(docId, '', user, ['read', 'write'], { method: 'POST', body: JSON.stringify({ name }) })

async function listed(docId: string): Promise<VersionInfo[]> {
  const res = await api(docId, '', alice, ['read'])
  expect(res.status).toBe(200)
  return ((await res.json()) as { versions: VersionInfo[] }).versions
}

async function conversationWithTwoWriters(): Promise<{ docId: string; a: DocPeer; b: DocPeer }> {
  const docId = fresh()
  const a = await peerOf(alice, alice, docId)
  const b = await peerOf(alice, bob, docId)
  Conversation.append(a.doc, msg('1', alice.did, 'one'))
  Conversation.append(b.doc, msg('2', bob.did, 'two'))
  await a.until(() => texts(a.doc).length === 2)
  await b.until(() => texts(b.doc).length === 2)
  return { docId, a, b }
}

describe('version history', () => {
  it('a named version lists who changed the document, returns its state, and a restore reaches two live clients as a new change', async () => {
    const { docId, a, b } = await conversationWithTwoWriters()
    const original = texts(a.doc)
    const named = await nameVersion(docId, 'before the edit')
    expect(named.status).toBe(201)
    const { version } = (await named.json()) as { version: VersionInfo }
    expect(version).toMatchObject({ reason: 'named', name: 'before the edit' })
    expect([...version.authors].sort()).toEqual([alice.did, bob.did].sort())

    Conversation.append(a.doc, msg('3', alice.did, 'three'))
    Conversation.meta(a.doc).set('title', 'renamed')
    await b.until(() => texts(b.doc).length === 3)

    const state = await api(docId, `/${version.id}`, bob, ['read'])
    expect(state.headers.get('content-type')).toBe('application/octet-stream')
    const past = new Y.Doc()
    Y.applyUpdate(past, new Uint8Array(await state.arrayBuffer()))
    expect(texts(past)).toEqual(original)

    const restored = await api(docId, `/${version.id}/restore`, alice, ['read', 'write'], { method: 'POST' })
    expect(restored.status).toBe(200)
    const { before } = (await restored.json()) as { before: VersionInfo }
    expect(before).toMatchObject({ reason: 'before-restore', authors: [alice.did] })
    // Both live clients receive the restore as an ordinary update and converge on the version's content.
    await a.until(() => texts(a.doc).length === 2 && Conversation.meta(a.doc).get('title') === undefined)
    await b.until(() => texts(b.doc).length === 2 && Conversation.meta(b.doc).get('title') === undefined)
    expect(texts(a.doc)).toEqual(original)
    expect(Y.encodeStateVector(a.doc)).toEqual(Y.encodeStateVector(b.doc))
    // History is not rewritten: what was replaced is a version of its own, newest first.
    const versions = await listed(docId)
    expect(versions.map((v) => v.reason)).toEqual(['before-restore', 'named'])
    const replaced = new Y.Doc()
    Y.applyUpdate(replaced, new Uint8Array(await (await api(docId, `/${before.id}`, alice, ['read'])).arrayBuffer()))
    expect(texts(replaced)).toEqual([...original, 'three'])
  })

  it('an automatic version is taken after a quiet spell, naming the writers since the last', async () => {
    const { docId } = await conversationWithTwoWriters()
    const room = env.DOC_ROOM.getByName(docId)
    // The clock moves on by a quiet spell (no write since), then the room's alarm fires.
    await runInDurableObject(room, (instance: DocRoom) => {
      const versions = (instance as unknown as { versions: { lastWriteAt: number } }).versions
      versions.lastWriteAt = Date.now() - QUIET_MS - 1
      return instance.alarm()
    })
    const [quiet] = await listed(docId)
    expect(quiet).toMatchObject({ reason: 'quiet' })
    expect([...(quiet?.authors ?? [])].sort()).toEqual([alice.did, bob.did].sort())
    // Nothing written since: the next alarm takes no version that would repeat it.
    await runInDurableObject(room, (instance: DocRoom) => instance.alarm())
    expect(await listed(docId)).toHaveLength(1)
  })

  it('keeps at most the documented number of named versions, the oldest going first', async () => {
    const { docId } = await conversationWithTwoWriters()
    for (let i = 0; i <= MAX_NAMED_VERSIONS; i++) expect((await nameVersion(docId, `v${i}`)).status).toBe(201)
    const versions = await listed(docId)
    expect(versions).toHaveLength(MAX_NAMED_VERSIONS)
    expect(versions.at(-1)?.name).toBe('v1')
  })

  it('refuses what the credential does not allow and what is malformed', async () => {
    const { docId } = await conversationWithTwoWriters()
    const { version } = (await (await nameVersion(docId, 'v')).json()) as { version: VersionInfo }
    const status = async (res: Promise<Response>) => (await res).status
    // A writer may name a version but not restore one: a restore can undo anyone's edits.
    expect(await status(nameVersion(docId, 'by bob', bob))).toBe(201)
    expect(await status(api(docId, `/${version.id}/restore`, bob, ['read', 'write'], { method: 'POST' }))).toBe(403)
    expect(await status(api(docId, '', carol, ['read'], { method: 'POST', body: '{"name":"x"}' }))).toBe(403)
    const elsewhere = docToken(alice, alice, fresh(), ['read', 'write', 'admin'])
    const headers = { Authorization: `Bearer ${elsewhere}` }
    expect(await status(exports.default.fetch(new Request(`${EDGE}/v1/docs/${docId}/versions`, { headers })))).toBe(403)
    expect(await status(nameVersion(docId, ''))).toBe(400)
    expect(await status(nameVersion(docId, 'x'.repeat(101)))).toBe(400)
    expect(await status(api(docId, '', alice, ['write'], { method: 'POST', body: 'not json' }))).toBe(400)
    expect(await status(api(docId, '/999999', alice, ['read']))).toBe(404)
    expect(await status(api(docId, '/-1', alice, ['read']))).toBe(400)
    expect(await status(api(docId, '/999999/restore', alice, ['admin'], { method: 'POST' }))).toBe(404)
    // A document nobody owns has no history, and asking for one does not create it.
    expect(await status(api(fresh(), '', alice, ['read']))).toBe(404)
  })
})
