/**
 * The rooms' RPC methods that federation writes and reads through: the same
 * checks as a client's write, answered only once stored, and refusals that
 * cross RPC with their `VivimError` codes intact (`shared/src/rpc-result.ts`).
 */
import { env } from 'cloudflare:test'
import {
  createEnvelope,
  decodeEnvelope,
  ErrorCode,
  encodeEnvelope,
  generateIdentity,
  isVivimError,
  unwrap,
} from '@vivim/shared'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { DocPeer } from './doc-peer.ts'

describe('a topic room over RPC', () => {
  it('stores a published message once and lists it in its history', async () => {
    const topic = 'public:news:rpc-history'
    const envelope = encodeEnvelope(createEnvelope(generateIdentity(), { topic, payload: new Uint8Array([7]) }))
    const room = env.TOPIC_ROOM.getByName(topic)
    const first = unwrap(await room.remotePublish(topic, envelope))
    const again = unwrap(await room.remotePublish(topic, envelope))
    expect(first.duplicate).toBe(false)
    expect(again).toEqual({ ...first, duplicate: true })
    expect((await room.history(topic)).map((bytes) => [...bytes])).toEqual([[...envelope]])
  })

  it('refuses a forged message with its code, and stores nothing', async () => {
    const topic = 'public:news:rpc-forged'
    const signed = createEnvelope(generateIdentity(), { topic, payload: new Uint8Array([1]) })
    const forged = encodeEnvelope({ ...signed, payload: new Uint8Array([2]) })
    const room = env.TOPIC_ROOM.getByName(topic)
    const settled = await room.remotePublish(topic, forged)
    expect(settled).toMatchObject({ ok: false, code: ErrorCode.InvalidSignature })
    let thrown: unknown = null
    try {
      unwrap(settled)
    } catch (error) {
      thrown = error
    }
    expect(isVivimError(thrown) && thrown.code).toBe(ErrorCode.InvalidSignature)
    expect(await room.history(topic)).toEqual([])
    expect(decodeEnvelope(forged).topic).toBe(topic)
  })
})

describe('a document room over RPC', () => {
  it('applies an update, stored before it answers, and sent to the clients connected', async () => {
    const docId = 'rpc-doc-apply'
    const peer = await DocPeer.connect(docId)
    const remote = new Y.Doc()
    remote.getText('t').insert(0, 'from a peer')
    const update = Y.encodeStateAsUpdate(remote)
    const room = env.DOC_ROOM.getByName(docId)
    expect(await room.remoteUpdate(docId, update)).toEqual({ ok: true, value: null })
    const { stateVector, diff } = unwrap(await room.remoteState(docId, new Uint8Array([0])))
    expect(stateVector).toEqual(Y.encodeStateVector(remote))
    const copy = new Y.Doc()
    Y.applyUpdate(copy, diff as Uint8Array)
    expect(copy.getText('t').toString()).toBe('from a peer')
    await peer.until(() => peer.doc.getText('t').toString() === 'from a peer')
    peer.close()
  })

  it('refuses an update that breaks the schema with its code, and keeps nothing of it', async () => {
    const docId = 'conversation:rpc-schema'
    const remote = new Y.Doc()
    remote.getMap('not-a-root').set('x', 1)
    const room = env.DOC_ROOM.getByName(docId)
    const settled = await room.remoteUpdate(docId, Y.encodeStateAsUpdate(remote))
    expect(settled).toMatchObject({ ok: false, code: ErrorCode.BadRequest })
    const { stateVector } = unwrap(await room.remoteState(docId, null))
    expect(Y.decodeStateVector(stateVector).size).toBe(0)
  })

  it('refuses a state vector that is not one', async () => {
    const room = env.DOC_ROOM.getByName('rpc-doc-sv')
    const settled = await room.remoteState('rpc-doc-sv', new Uint8Array([0xff, 0xff, 0xff]))
    expect(settled).toMatchObject({ ok: false, code: ErrorCode.BadRequest })
  })
})
