import { CloseCode, Conversation, type ConversationMessage, generateIdentity } from '@vivim/shared'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { type Caller, docHttp, postUpdate, readDoc } from './doc-http-client.ts'
import { DocPeer } from './doc-peer.ts'
import { docToken, peerOf } from './doc-tokens.ts'

const alice = generateIdentity()
const bob = generateIdentity()
const owner: Caller = { owner: alice, user: alice, can: ['read', 'write'] }
const bobReads: Caller = { owner: alice, user: bob, can: ['read'] }
const msg = (id: string, author: string, text: string): ConversationMessage => ({ id, author, text, ts: 1 })
const texts = (doc: Y.Doc) =>
  Conversation.messages(doc)
    .toArray()
    .map((m) => m.text)

describe('what the owner deleted stays deleted', () => {
  it('a client that kept a copy reconnects after the delete: its copy does not come back, over a socket or HTTP', async () => {
    const docId = `conversation:${crypto.randomUUID()}`
    const a = await peerOf(alice, alice, docId)
    const b = await peerOf(alice, bob, docId)
    Conversation.append(a.doc, msg('1', alice.did, 'secret'))
    Conversation.append(b.doc, msg('2', bob.did, 'also secret'))
    await b.until(() => texts(b.doc).length === 2)
    // Bob's copy, as a stock y-websocket client keeps it across a close it does not stop at.
    const stale = new Y.Doc()
    Y.applyUpdate(stale, Y.encodeStateAsUpdate(b.doc))
    stale.clientID = b.doc.clientID

    expect((await docHttp(docId, '', owner, { method: 'DELETE' })).status).toBe(204)
    expect((await b.closedWith()).code).toBe(CloseCode.DocumentDeleted)
    const again = await peerOf(alice, alice, docId)
    Conversation.append(again.doc, msg('3', alice.did, 'after the delete'))
    await again.until(() => again.updatesReceived >= 2)

    // Bob's client reconnects with its copy and syncs it (step 2 carries everything it holds).
    const back = await DocPeer.connect(docId, {
      token: docToken(alice, bob, docId, ['read', 'write']),
      doc: stale,
    })
    await back.until(() => back.synced)
    // The same copy over HTTP, too.
    expect(
      (await postUpdate(docId, { owner: alice, user: bob, can: ['write'] }, Y.encodeStateAsUpdate(stale))).status,
    ).toBe(200)
    expect(texts(await readDoc(docId, bobReads))).toEqual(['after the delete'])

    // Its later edits follow erased content (its own Yjs client's earlier structs, a message's
    // neighbours): they cannot apply, the room asks for what they lack a bounded number of times, as
    // for any such update, then closes the socket.
    Conversation.append(back.doc, msg('4', bob.did, 'after an erased message'))
    expect((await back.closedWith()).code).toBe(CloseCode.InvalidUpdate)
    expect(texts(await readDoc(docId, bobReads))).toEqual(['after the delete'])
    expect(texts(again.doc)).toEqual(['after the delete'])
  })
})
