import { Conversation, type ConversationMessage, ErrorCode, generateIdentity, type VivimError } from '@vivim/shared'
import { describe, expect, inject, it } from 'vitest'
import * as Y from 'yjs'
import type { VivimDocProvider } from '../src/doc-provider.ts'
import { readDocument } from '../src/docs-http.ts'
import { VivimClient } from '../src/vivim-client.ts'

const edge = inject('edgeUrl')
const HOUR = 3_600_000

function synced(provider: VivimDocProvider): Promise<void> {
  return new Promise((resolve, reject) => {
    if (provider.state.value === 'synced') return resolve()
    provider.state.on((s) => s === 'synced' && resolve())
    provider.on('error', (e: VivimError) => reject(e))
  })
}

/** Resolves once `check` holds, checked again at each change of `doc`. */
function until(doc: Y.Doc, check: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const look = () => {
      if (!check()) return
      doc.off('update', look)
      resolve()
    }
    doc.on('update', look)
    look()
  })
}

describe('documents over HTTP through the SDK', () => {
  it('a grantee writes and reads without a socket, the owner’s provider receives it, and the owner deletes', async () => {
    const alice = new VivimClient({ edge, identity: generateIdentity() })
    const bobId = generateIdentity()
    const docId = `conversation:${crypto.randomUUID()}`
    const own = alice.document(docId)
    await synced(own)
    const grant = alice.grant({
      resource: `doc:${docId}`,
      actions: ['read', 'write'],
      expiresAt: Date.now() + HOUR,
      to: bobId.did,
    })
    const bob = new VivimClient({ edge, identity: bobId, grants: [grant] })

    // Bob's replica, read over HTTP, and his message written back as one update.
    const replica = new Y.Doc()
    Y.applyUpdate(replica, await bob.readDocument(docId))
    const before = Y.encodeStateVector(replica)
    const message: ConversationMessage = { id: 'b1', author: bobId.did, text: 'over http', ts: 1 }
    Conversation.append(replica, message)
    const written = await bob.writeDocument(docId, Y.encodeStateAsUpdate(replica, before))
    expect(written.complete).toBe(true)
    expect(Y.decodeStateVector(written.stateVector)).toEqual(Y.decodeStateVector(Y.encodeStateVector(replica)))
    await until(own.doc, () => Conversation.messages(own.doc).length === 1)

    expect(await bob.readDocumentJson(docId)).toEqual({ messages: [message], meta: {} })
    expect(await bob.readStateVector(docId)).toEqual(written.stateVector)
    // Nothing new since his state vector: an update that adds nothing.
    const nothing = new Y.Doc()
    Y.applyUpdate(nothing, await bob.readDocument(docId, written.stateVector))
    expect(Conversation.messages(nothing).length).toBe(0)

    await expect(bob.deleteDocument(docId)).rejects.toMatchObject({ code: ErrorCode.Forbidden })
    const closed = new Promise<VivimError>((resolve) => own.once('error', resolve))
    await alice.deleteDocument(docId)
    // The provider stops: reconnecting would write its copy back into the deleted document.
    expect((await closed).code).toBe(ErrorCode.NotFound)
    expect(own.retrying).toBe(false)
    // The plain functions take the edge and a credential themselves.
    const target = { edge, docId, token: alice.tokenFor(`doc:${docId}`) }
    await expect(readDocument(target)).rejects.toMatchObject({ code: ErrorCode.NotFound })
    own.destroy()
  })
})
