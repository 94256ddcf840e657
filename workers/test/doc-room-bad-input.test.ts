import {
  CloseCode,
  compareClocks,
  ErrorCode,
  encodeSyncStep1,
  encodeSyncUpdate,
  fromStateVector,
  MessageType,
} from '@vivim/shared'
import * as encoding from 'lib0/encoding'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { DocPeer } from './doc-peer.ts'
import { refusal, withoutUpgrade } from './socket-peer.ts'

/**
 * Runs `offend` on one socket of a room with a bystander and some content,
 * and checks the offender gets `code`, while the bystander stays connected,
 * still syncs, and a newcomer finds exactly the good content.
 */
async function offenderIsolated(
  docId: string,
  code: CloseCode,
  offend: (offender: DocPeer) => void,
  setup: (doc: Y.Doc) => void = (doc) => doc.getArray<string>('log').push(['good']),
  later: (doc: Y.Doc) => void = (doc) => doc.getArray<string>('log').push(['still works']),
  view: (doc: Y.Doc) => unknown = (doc) => doc.getArray('log').toJSON(),
): Promise<string> {
  const bystander = await DocPeer.connect(docId)
  setup(bystander.doc)
  const offender = await DocPeer.connect(docId)
  await offender.until(() => offender.synced)
  const sameState = (a: Y.Doc, b: Y.Doc) =>
    compareClocks(fromStateVector(Y.encodeStateVector(a)), fromStateVector(Y.encodeStateVector(b))) === 'equal'
  await offender.until(() => sameState(offender.doc, bystander.doc))
  offend(offender)
  const closed = await offender.closedWith()
  expect(closed.code).toBe(code)
  expect(closed.reason.length).toBeGreaterThan(0)
  expect(bystander.closed).toBeNull()
  later(bystander.doc)
  const newcomer = await DocPeer.connect(docId)
  await newcomer.until(() => sameState(newcomer.doc, bystander.doc))
  expect(view(newcomer.doc)).toEqual(view(bystander.doc))
  expect(bystander.closed).toBeNull()
  return closed.reason
}

const fresh = (prefix = 'bad') => `${prefix}-${crypto.randomUUID()}`

const laterMessage = (doc: Y.Doc) => doc.getArray('messages').push([{ id: 'm9', author: 'a', text: 'ok', ts: 2 }])
const viewMessages = (doc: Y.Doc) => doc.getArray('messages').toJSON()
const viewMeta = (doc: Y.Doc) => doc.getMap('meta').toJSON()
const laterName = (doc: Y.Doc) => doc.getMap('meta').set('description', 'still works')

function frame(...parts: number[]): Uint8Array {
  return Uint8Array.from(parts)
}

// The frames every room refuses (wrong kind, undecodable, oversized, a flood) are in room-bad-frames.test.ts.
describe('document rooms refuse bad input and harm no one else', () => {
  it('a truncated y-protocols frame', async () => {
    await offenderIsolated(fresh(), CloseCode.BadFrame, (p) => p.send(frame(MessageType.Sync, 2, 10, 1)))
  })

  it('a frame with trailing bytes', async () => {
    const ok = encodeSyncStep1(new Uint8Array([0]))
    await offenderIsolated(fresh(), CloseCode.BadFrame, (p) => p.send(Uint8Array.from([...ok, 9, 9])))
  })

  it('a sync step 1 whose state vector is garbage', async () => {
    await offenderIsolated(fresh(), CloseCode.BadFrame, (p) => p.send(encodeSyncStep1(frame(200, 200, 200))))
  })

  it('a malformed awareness update', async () => {
    const e = encoding.createEncoder()
    encoding.writeVarUint(e, MessageType.Awareness)
    encoding.writeVarUint8Array(e, frame(1, 5, 1, 3, 0x7b))
    await offenderIsolated(fresh(), CloseCode.BadFrame, (p) => p.send(encoding.toUint8Array(e)))
  })

  it('an update Yjs cannot apply', async () => {
    const source = new Y.Doc()
    source.getArray<string>('log').push(['x'.repeat(40)])
    const update = Y.encodeStateAsUpdate(source)
    const broken = update.slice(0, update.length - 12)
    const reason = await offenderIsolated(fresh(), CloseCode.InvalidUpdate, (p) => p.send(encodeSyncUpdate(broken)))
    expect(reason).toMatch(/cannot apply/)
  })

  it('a malformed message in a conversation', async () => {
    const docId = fresh('conversation:bad')
    const setup = (doc: Y.Doc) => doc.getArray('messages').push([{ id: 'm1', author: 'a', text: 'hi', ts: 1 }])
    const reason = await offenderIsolated(
      docId,
      CloseCode.InvalidUpdate,
      (p) => p.doc.getArray('messages').push([{ id: 'm2', text: 42 }]),
      setup,
      laterMessage,
      viewMessages,
    )
    expect(reason).toMatch(/messages/)
  })

  it('a write to a root the conversation schema does not have', async () => {
    const setup = (doc: Y.Doc) => doc.getArray('messages').push([{ id: 'm1', author: 'a', text: 'hi', ts: 1 }])
    await offenderIsolated(
      fresh('conversation:bad'),
      CloseCode.InvalidUpdate,
      (p) => p.doc.getMap('x').set('k', 1),
      setup,
      laterMessage,
      viewMessages,
    )
  })

  it('a nested shared type in a circle', async () => {
    const setup = (doc: Y.Doc) => doc.getMap('meta').set('name', 'book club')
    await offenderIsolated(
      fresh('circle:bad'),
      CloseCode.InvalidUpdate,
      (p) => p.doc.getMap('meta').set('name', new Y.Text('nested')),
      setup,
      laterName,
      viewMeta,
    )
  })

  it('a circle member keyed by something other than a DID', async () => {
    const setup = (doc: Y.Doc) => doc.getMap('meta').set('name', 'book club')
    await offenderIsolated(
      fresh('circle:bad'),
      CloseCode.InvalidUpdate,
      (p) => p.doc.getMap('members').set('bob', { role: 'member', joinedAt: 1 }),
      setup,
      laterName,
      viewMeta,
    )
  })
})

describe('the document route refuses bad requests', () => {
  it('a plain GET without an upgrade', async () => {
    expect(await withoutUpgrade('/v1/docs/some-doc')).toEqual({ status: 426, code: ErrorCode.UpgradeRequired })
  })

  it.each([
    ['an id with characters outside the set', '/v1/docs/bad%20id', { Upgrade: 'websocket' }, 400, ErrorCode.BadRequest],
    [
      'a typed id with nothing after the type',
      '/v1/docs/profile:',
      { Upgrade: 'websocket' },
      400,
      ErrorCode.BadRequest,
    ],
    [
      'an id longer than 256 characters',
      `/v1/docs/${'x'.repeat(257)}`,
      { Upgrade: 'websocket' },
      400,
      ErrorCode.BadRequest,
    ],
  ])('%s', async (_, path, headers, status, code) => {
    expect(await refusal(path, headers)).toEqual({ status, code })
  })
})
