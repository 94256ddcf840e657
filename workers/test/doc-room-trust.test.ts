import { env, runInDurableObject } from 'cloudflare:test'
import {
  Circle,
  CloseCode,
  Conversation,
  type ConversationMessage,
  decodeDocMessage,
  encodeSyncUpdate,
  generateIdentity,
  Limits,
  MessageType,
  Profile,
  SyncType,
} from '@vivim/shared'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { DEV_READ_ONLY_TOKEN } from '../http/access.ts'
import type { DocRoom } from '../relay/doc-room.ts'
import { DocPeer } from './doc-peer.ts'
import { docToken, peerOf } from './doc-tokens.ts'
import { binary, refusal, SocketPeer, upgrade } from './socket-peer.ts'

const alice = generateIdentity()
const bob = generateIdentity()
const carol = generateIdentity()
const fresh = (type: string) => `${type}:${crypto.randomUUID()}`
const msg = (id: string, author: string, text = 'hi'): ConversationMessage => ({ id, author, text, ts: 1 })
const texts = (p: DocPeer) =>
  Conversation.messages(p.doc)
    .toArray()
    .map((m) => m.text)

/** A raw socket on the document with `token`, for frames no Yjs client would send. */
const rawSocket = (docId: string, token: string) =>
  SocketPeer.open(`/v1/docs/${docId}?token=${encodeURIComponent(token)}`)

/** Two updates by a replica that writes with `clientId` after `base`: the second depends on the first. */
function twoUpdates(base: Y.Doc, clientId: number, first: unknown, second: unknown): [Uint8Array, Uint8Array] {
  const replica = new Y.Doc()
  Y.applyUpdate(replica, Y.encodeStateAsUpdate(base))
  // Set after: a replica that receives structs of its own client id picks a new one.
  replica.clientID = clientId
  const updates: Uint8Array[] = []
  replica.on('update', (u: Uint8Array) => updates.push(u))
  replica.getArray('messages').push([first])
  replica.getArray('messages').push([second])
  return updates as [Uint8Array, Uint8Array]
}

describe('a writer cannot lock another user out of a document', () => {
  it('the victim’s edits keep landing while an attacker with her client id keeps retrying', async () => {
    const docId = fresh('conversation')
    const victim = await peerOf(alice, alice, docId)
    const watcher = await peerOf(alice, carol, docId, ['read'])
    Conversation.append(victim.doc, msg('a0', alice.did, 'alice 0'))
    await watcher.until(() => texts(watcher).includes('alice 0'))
    for (let round = 1; round <= 4; round++) {
      // A refused identity waits before it is admitted again (tested below): each round is another.
      const attacker = await rawSocket(docId, docToken(alice, generateIdentity(), docId, ['read', 'write']))
      // The second update is held back by Yjs until its first arrives; a bad message waits inside it.
      const [, second] = twoUpdates(victim.doc, victim.doc.clientID, msg(`b${round}`, bob.did), { junk: 1 })
      attacker.send(encodeSyncUpdate(second))
      Conversation.append(victim.doc, msg(`a${round}`, alice.did, `alice ${round}`))
      await watcher.until(() => texts(watcher).includes(`alice ${round}`))
      // Writing with her client id outright, at her next clock, is refused, and only the attacker is closed.
      const [next] = twoUpdates(victim.doc, victim.doc.clientID, msg(`c${round}`, bob.did), msg('-', bob.did))
      attacker.send(encodeSyncUpdate(next))
      expect((await attacker.closedWith()).code).toBe(CloseCode.Forbidden)
    }
    expect(victim.closed).toBeNull()
    expect(texts(watcher)).toEqual(['alice 0', 'alice 1', 'alice 2', 'alice 3', 'alice 4'])
  })

  it('a client id announced in presence belongs to its announcer before she writes with it', async () => {
    const docId = fresh('conversation')
    const victim = await peerOf(alice, alice, docId)
    const attacker = await peerOf(alice, bob, docId)
    victim.setPresence({ name: 'Alice' })
    await attacker.until(() => attacker.awareness.has(victim.doc.clientID))
    const [first] = twoUpdates(attacker.doc, victim.doc.clientID, msg('b1', bob.did), msg('b2', bob.did))
    attacker.send(encodeSyncUpdate(first))
    expect((await attacker.closedWith()).code).toBe(CloseCode.Forbidden)
    Conversation.append(victim.doc, msg('a1', alice.did, 'mine'))
    const late = await peerOf(alice, carol, docId, ['read'])
    await late.until(() => texts(late).includes('mine'))
    expect(texts(late)).toEqual(['mine'])
  })
})

describe('a writer cannot slip content past the checks as structs the room already has', () => {
  it('a forged copy of the victim’s struct, sent beside a real edit, reaches nobody', async () => {
    const docId = fresh('conversation')
    const victim = await peerOf(alice, alice, docId)
    Conversation.append(victim.doc, msg('a1', alice.did, 'real'))
    const attacker = await peerOf(alice, bob, docId)
    await attacker.until(() => texts(attacker).includes('real'))
    // The same id as Alice's first struct, other content; and one honest message of Bob's own.
    const forger = new Y.Doc()
    forger.clientID = victim.doc.clientID
    forger.getArray('messages').push([{ ...msg('a1', alice.did, 'forged'), extra: 'not in the schema' }])
    const own = new Y.Doc()
    Conversation.append(own, msg('b1', bob.did, 'honest'))
    const raw = await rawSocket(docId, docToken(alice, carol, docId, ['read']))
    attacker.send(encodeSyncUpdate(Y.mergeUpdates([Y.encodeStateAsUpdate(forger), Y.encodeStateAsUpdate(own)])))
    await victim.until(() => texts(victim).includes('honest'))
    // A replica that applies what the room relayed before it holds Alice's struct sees no forgery.
    const joiner = new Y.Doc()
    for (const frame of raw.frames) {
      const message = decodeDocMessage(binary(frame))
      if (message.type === MessageType.Sync && message.syncType === SyncType.Update) Y.applyUpdate(joiner, message.data)
    }
    expect(texts({ doc: joiner } as DocPeer)).toEqual(['honest'])
    expect(texts(victim).sort()).toEqual(['honest', 'real'])
  })
})

describe('a writer cannot exhaust a room with content it holds back', () => {
  it('updates of about 1 MB missing their first struct: nothing is kept, the sender is closed, the room answers', async () => {
    const docId = `free-${crypto.randomUUID()}`
    const sender = await rawSocket(docId, docToken(alice, alice, docId, ['read', 'write']))
    const other = await peerOf(alice, alice, docId)
    const big = 'x'.repeat(900_000)
    let sent = 0
    for (; sent < 40; sent++) {
      const replica = new Y.Doc()
      const updates: Uint8Array[] = []
      replica.on('update', (u: Uint8Array) => updates.push(u))
      replica.getText('t').insert(0, 'a')
      replica.getText('t').insert(1, big)
      try {
        sender.send(encodeSyncUpdate(updates[1] as Uint8Array))
      } catch {
        break // closed under us
      }
    }
    expect((await sender.closedWith()).code).toBe(CloseCode.InvalidUpdate)
    other.doc.getArray<string>('log').push(['still here'])
    const late = await peerOf(alice, carol, docId, ['read'])
    await late.until(() => late.doc.getArray('log').length === 1)
    expect(late.doc.getText('t').length).toBe(0)
    const pending = await runInDurableObject(env.DOC_ROOM.getByName(docId), (room: DocRoom) => {
      const doc = (room as unknown as { loaded: { doc: Y.Doc } | null }).loaded?.doc
      return doc ? doc.store.pendingStructs !== null || doc.store.pendingDs !== null : false
    })
    expect(pending).toBe(false)
  })
})

describe('authorship and roles inside typed documents', () => {
  it('a writer cannot post as Alice, delete her messages or rename her conversation; others are unharmed', async () => {
    const docId = fresh('conversation')
    const owner = await peerOf(alice, alice, docId)
    Conversation.append(owner.doc, msg('a1', alice.did, 'hello'))
    Conversation.setTitle(owner.doc, 'Plans')
    const attempts: ((d: Y.Doc) => void)[] = [
      (d) => Conversation.append(d, msg('b1', alice.did, 'forged')),
      (d) => Conversation.append(d, msg('b2', 'SYSTEM ADMIN', 'forged')),
      (d) => Conversation.messages(d).delete(0, 1),
      (d) => Conversation.setTitle(d, 'mine'),
    ]
    for (const attempt of attempts) {
      const writer = await peerOf(alice, generateIdentity(), docId)
      await writer.until(() => texts(writer).includes('hello'))
      attempt(writer.doc)
      expect((await writer.closedWith()).code).toBe(CloseCode.Forbidden)
    }
    const honest = await peerOf(alice, bob, docId)
    Conversation.append(honest.doc, msg('b3', bob.did, 'mine, honestly'))
    const late = await peerOf(alice, carol, docId, ['read'])
    await late.until(() => texts(late).length === 2)
    expect(texts(late)).toEqual(['hello', 'mine, honestly'])
    expect(Conversation.meta(late.doc).get('title')).toBe('Plans')
    expect(owner.closed).toBeNull()
  })

  it('in a circle, a plain member cannot make himself owner, add an admin or remove the owner', async () => {
    const docId = fresh('circle')
    const owner = await peerOf(alice, alice, docId)
    Circle.addMember(owner.doc, alice.did, 'owner', 1)
    Circle.addMember(owner.doc, bob.did, 'member', 1)
    const attempts: ((d: Y.Doc, self: string) => void)[] = [
      (d, self) => Circle.members(d).set(self, { role: 'owner', joinedAt: 1 }),
      (d) => Circle.members(d).set(carol.did, { role: 'admin', joinedAt: 1 }),
      (d) => Circle.members(d).delete(alice.did),
    ]
    // Each attempt by another plain member: a refused identity waits before it is admitted again.
    const members = attempts.map(() => generateIdentity())
    for (const m of members) Circle.addMember(owner.doc, m.did, 'member', 1)
    for (const [i, attempt] of attempts.entries()) {
      const who = members[i] as (typeof members)[number]
      const member = await peerOf(alice, who, docId)
      await member.until(() => Circle.members(member.doc).size === 2 + members.length)
      attempt(member.doc, who.did)
      expect((await member.closedWith()).code).toBe(CloseCode.Forbidden)
    }
    for (const m of members) Circle.removeMember(owner.doc, m.did)
    const leaving = await peerOf(alice, bob, docId)
    await leaving.until(() => Circle.members(leaving.doc).size === 2)
    Circle.removeMember(leaving.doc, bob.did)
    await owner.until(() => Circle.members(owner.doc).size === 1)
    expect(Circle.members(owner.doc).toJSON()).toEqual({ [alice.did]: { role: 'owner', joinedAt: 1 } })
    expect(leaving.closed).toBeNull()
  })

  it('a writer whose write was refused waits before the room admits it again', async () => {
    const docId = fresh('conversation')
    await peerOf(alice, alice, docId)
    const writer = await peerOf(alice, bob, docId)
    Conversation.append(writer.doc, msg('x', alice.did, 'as alice'))
    expect((await writer.closedWith()).code).toBe(CloseCode.Forbidden)
    const token = docToken(alice, bob, docId, ['read', 'write'])
    expect(await refusal(`/v1/docs/${docId}?token=${encodeURIComponent(token)}`)).toEqual({
      status: 429,
      code: 'rate_limited',
    })
    expect((await peerOf(alice, carol, docId)).closed).toBeNull()
  })

  it('a profile is written only by the DID it belongs to, even with a write grant', async () => {
    const docId = `profile:${alice.did}`
    const writer = await peerOf(alice, bob, docId)
    Profile.attributes(writer.doc).set('displayName', 'Not Alice')
    expect((await writer.closedWith()).code).toBe(CloseCode.Forbidden)
    const owner = await peerOf(alice, alice, docId)
    Profile.set(owner.doc, 'displayName', 'Alice')
    const late = await peerOf(alice, alice, docId, ['read'])
    await late.until(() => Profile.attributes(late.doc).get('displayName') === 'Alice')
    expect(owner.closed).toBeNull()
  })

  it('content inserted and deleted within one update is checked like any other', async () => {
    const docId = fresh('conversation')
    const writer = await peerOf(alice, alice, docId)
    writer.doc.gc = false
    writer.doc.transact(() => {
      writer.doc.getArray('spam').push(['x'.repeat(500_000)])
      writer.doc.getArray('spam').delete(0, 1)
    })
    expect((await writer.closedWith()).code).toBe(CloseCode.InvalidUpdate)
  })
})

describe('what a grant lets a socket see and do', () => {
  it('a write-only grant writes but receives neither the document nor anyone’s edits or presence', async () => {
    const docId = fresh('conversation')
    const owner = await peerOf(alice, alice, docId)
    Conversation.append(owner.doc, msg('a1', alice.did, 'private'))
    owner.setPresence({ name: 'Alice' })
    const writer = await peerOf(alice, bob, docId, ['write'])
    expect(writer.synced).toBe(true)
    Conversation.append(writer.doc, msg('b1', bob.did, 'from bob'))
    await owner.until(() => texts(owner).includes('from bob'))
    Conversation.append(owner.doc, msg('a2', alice.did, 'also private'))
    const reader = await peerOf(alice, carol, docId, ['read'])
    await reader.until(() => texts(reader).includes('also private'))
    expect(texts(writer)).toEqual(['from bob'])
    expect(writer.awareness.size).toBe(0)
  })

  it('an admin grant makes its holder an admin under the rules: it renames, but cannot remove the owner', async () => {
    const docId = fresh('circle')
    const owner = await peerOf(alice, alice, docId)
    Circle.addMember(owner.doc, alice.did, 'owner', 1)
    const admin = await peerOf(alice, bob, docId, ['admin'])
    await admin.until(() => Circle.members(admin.doc).size === 1)
    Circle.meta(admin.doc).set('name', 'Book club')
    Circle.addMember(admin.doc, carol.did, 'member', 1)
    await owner.until(() => Circle.members(owner.doc).has(carol.did))
    expect(Circle.meta(owner.doc).get('name')).toBe('Book club')
    Circle.members(admin.doc).delete(alice.did)
    expect((await admin.closedWith()).code).toBe(CloseCode.Forbidden)
    expect(Circle.members(owner.doc).has(alice.did)).toBe(true)
  })
})

describe('caps on what one identity holds in a room', () => {
  it('one update brings at most the limit of new Yjs clients (each is a row of ownership)', async () => {
    const docId = `free-${crypto.randomUUID()}`
    const writer = await peerOf(alice, alice, docId)
    const many = Array.from({ length: Limits.maxNewClientsPerUpdate + 1 }, (_, i) => {
      const d = new Y.Doc()
      d.getArray('log').push([i])
      return Y.encodeStateAsUpdate(d)
    })
    writer.send(encodeSyncUpdate(Y.mergeUpdates(many)))
    expect((await writer.closedWith()).code).toBe(CloseCode.InvalidUpdate)
    const late = await peerOf(alice, alice, docId)
    expect(late.doc.getArray('log').length).toBe(0)
  })

  it('one identity opens at most the limit of sockets on one room', async () => {
    const docId = fresh('conversation')
    const token = () => docToken(alice, alice, docId, ['read', 'write'])
    for (let i = 0; i < Limits.maxSocketsPerIdentity; i++) await rawSocket(docId, token())
    // Refused on a socket closed at once, as the Worker refuses: a browser could read nothing else.
    const res = await upgrade(`/v1/docs/${docId}?token=${encodeURIComponent(token())}`)
    expect(res.status).toBe(101)
    expect(await refusal(`/v1/docs/${docId}?token=${encodeURIComponent(token())}`)).toEqual({
      status: 429,
      code: 'rate_limited',
    })
    expect((await peerOf(alice, bob, docId)).closed).toBeNull()
  })
})

describe('presence caps', () => {
  const pad = (chars: number) => ({ pad: 'x'.repeat(chars - 10) })

  it('an awareness state over the size cap closes its sender and reaches nobody', async () => {
    const docId = `free-${crypto.randomUUID()}`
    const reader = await DocPeer.connect(docId, { token: DEV_READ_ONLY_TOKEN })
    const watcher = await DocPeer.connect(docId)
    reader.setPresence(pad(Limits.maxAwarenessStateBytes + 100))
    expect((await reader.closedWith()).code).toBe(CloseCode.MessageTooBig)
    watcher.setPresence({ name: 'w' })
    await watcher.until(() => watcher.awareness.has(watcher.doc.clientID))
    expect(watcher.awareness.has(reader.doc.clientID)).toBe(false)
  })

  it('one socket speaks for at most the cap of awareness ids', async () => {
    const docId = `free-${crypto.randomUUID()}`
    const peer = await DocPeer.connect(docId)
    for (let id = 1; id <= Limits.maxAwarenessIdsPerSocket + 1; id++) peer.setPresence({ id }, 1, 1000 + id)
    expect((await peer.closedWith()).code).toBe(CloseCode.Forbidden)
  })

  it('a room’s presence is bounded, so a joiner’s snapshot is too', async () => {
    const docId = `free-${crypto.randomUUID()}`
    const perState = 8_000
    const perSocket = Limits.maxAwarenessIdsPerSocket
    const fits = Math.floor(Limits.maxAwarenessRoomBytes / (perState * perSocket))
    let next = 1
    for (let i = 0; i < fits; i++) {
      const peer = await DocPeer.connect(docId)
      for (let k = 0; k < perSocket; k++) peer.setPresence(pad(perState), 1, next++)
      await peer.until(() => peer.awareness.size === next - 1)
    }
    // Past the room's total a state is ignored, not its sender closed: it still edits.
    const extra = await DocPeer.connect(docId)
    for (let k = 0; k < perSocket; k++) extra.setPresence(pad(perState), 1, next++)
    extra.doc.getArray('log').push(['still editing'])
    const joiner = await DocPeer.connect(docId)
    await joiner.until(() => joiner.doc.getArray('log').length === 1)
    expect(extra.closed).toBeNull()
    const seen = joiner.frames.length
    await joiner.until(() => joiner.awareness.size >= fits * perSocket)
    // Only what fits of the last socket's states was kept.
    expect(joiner.awareness.size).toBeLessThan((fits + 1) * perSocket)
    expect(Math.max(...joiner.frames.slice(seen).map((f) => f.byteLength))).toBeLessThan(
      Limits.maxAwarenessRoomBytes + 64 * 1024,
    )
  })
})
