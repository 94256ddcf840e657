import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { Circle, Conversation, Profile, Settings } from '../src/doc-helpers.ts'
import { createSchemaGuard, defineRoots } from '../src/doc-schema.ts'
import type { DocType } from '../src/doc-types.ts'
import { ErrorCode } from '../src/errors.ts'
import { generateIdentity } from '../src/identity.ts'

const owner = generateIdentity().did
const admin = generateIdentity().did
const member = generateIdentity().did
const stranger = generateIdentity().did

/**
 * A room document and one replica per writer. `write` makes a change on the
 * writer's replica and applies it, as that writer, to a guarded copy of the
 * room's document; it returns the guard's verdict. As the room does, a
 * refused write leaves the room's document as it was (the copy is thrown
 * away, and so is the writer's replica); an accepted one is applied and
 * reaches every replica, as the room's broadcast would.
 */
function room(type: DocType, docOwner: string) {
  const doc = new Y.Doc()
  defineRoots(doc, type)
  const replicas = new Map<string, Y.Doc>()
  const replica = (did: string) => {
    let r = replicas.get(did)
    if (!r) {
      r = new Y.Doc()
      Y.applyUpdate(r, Y.encodeStateAsUpdate(doc))
      replicas.set(did, r)
    }
    return r
  }
  return {
    doc,
    write(did: string, change: (d: Y.Doc) => void): { reason: string; forbidden: boolean } | null {
      const r = replica(did)
      change(r)
      const update = Y.encodeStateAsUpdate(r, Y.encodeStateVector(doc))
      const copy = new Y.Doc()
      Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc))
      const guard = createSchemaGuard(copy, type, () => ({ did, owner: docOwner }))
      Y.applyUpdate(copy, update)
      const problem = guard.take()
      if (problem !== null) {
        replicas.delete(did)
        return problem
      }
      Y.applyUpdate(doc, update)
      for (const other of replicas.values()) Y.applyUpdate(other, Y.encodeStateAsUpdate(doc))
      return null
    },
  }
}

const message = (id: string, author: string) => ({ id, author, text: `by ${author}`, ts: 1 })

describe('conversation rules', () => {
  it('a message’s author is the DID that writes it, and only its author deletes it', () => {
    const r = room('conversation', owner)
    expect(r.write(member, (d) => Conversation.append(d, message('m1', member)))).toBeNull()
    expect(r.write(stranger, (d) => Conversation.append(d, message('m2', member)))).toMatchObject({ forbidden: true })
    expect(r.write(stranger, (d) => Conversation.append(d, message('m3', 'SYSTEM ADMIN')))).toMatchObject({
      forbidden: true,
    })
    expect(r.write(owner, (d) => Conversation.messages(d).delete(0, 1))).toMatchObject({ forbidden: true })
    expect(Conversation.messages(r.doc).toArray()).toEqual([message('m1', member)])
    expect(r.write(member, (d) => Conversation.messages(d).delete(0, 1))).toBeNull()
    expect(Conversation.messages(r.doc).length).toBe(0)
  })

  it('only the owner renames the conversation', () => {
    const r = room('conversation', owner)
    expect(r.write(member, (d) => Conversation.setTitle(d, 'mine now'))).toMatchObject({ forbidden: true })
    expect(r.write(owner, (d) => Conversation.setTitle(d, 'Plans'))).toBeNull()
    expect(r.write(member, (d) => Conversation.meta(d).delete('title'))).toMatchObject({ forbidden: true })
    expect(Conversation.meta(r.doc).get('title')).toBe('Plans')
  })
})

describe('circle rules', () => {
  function circle() {
    const r = room('circle', owner)
    expect(r.write(owner, (d) => Circle.addMember(d, owner, 'owner', 1))).toBeNull()
    expect(r.write(owner, (d) => Circle.addMember(d, admin, 'admin', 1))).toBeNull()
    expect(r.write(admin, (d) => Circle.addMember(d, member, 'member', 1))).toBeNull()
    return r
  }

  it('a plain member cannot promote himself, add a friend or remove the owner', () => {
    const r = circle()
    expect(r.write(member, (d) => Circle.addMember(d, member, 'owner', 1))).toMatchObject({ forbidden: true })
    expect(r.write(member, (d) => Circle.addMember(d, stranger, 'admin', 1))).toMatchObject({ forbidden: true })
    expect(r.write(member, (d) => Circle.removeMember(d, owner))).toMatchObject({ forbidden: true })
    expect(r.write(member, (d) => Circle.meta(d).set('name', 'taken'))).toMatchObject({ forbidden: true })
    expect(Circle.members(r.doc).toJSON()).toEqual({
      [owner]: { role: 'owner', joinedAt: 1 },
      [admin]: { role: 'admin', joinedAt: 1 },
      [member]: { role: 'member', joinedAt: 1 },
    })
  })

  it('an admin manages members but never the owner; the owner demotes anyone; a member may leave', () => {
    const r = circle()
    expect(r.write(admin, (d) => Circle.addMember(d, owner, 'member', 1))).toMatchObject({ forbidden: true })
    expect(r.write(admin, (d) => Circle.removeMember(d, owner))).toMatchObject({ forbidden: true })
    expect(r.write(admin, (d) => Circle.addMember(d, stranger, 'owner', 1))).toMatchObject({ forbidden: true })
    expect(r.write(admin, (d) => Circle.addMember(d, stranger, 'member', 1))).toBeNull()
    expect(r.write(member, (d) => Circle.removeMember(d, member))).toBeNull()
    expect(r.write(owner, (d) => Circle.addMember(d, admin, 'member', 1))).toBeNull()
    // Demoted: the former admin's role is now what the owner wrote.
    expect(r.write(admin, (d) => Circle.removeMember(d, stranger))).toMatchObject({ forbidden: true })
    expect(Object.keys(Circle.members(r.doc).toJSON()).sort()).toEqual([owner, admin, stranger].sort())
  })

  it('a role granted in the same update does not count for that update', () => {
    const r = circle()
    expect(
      r.write(member, (d) => {
        d.transact(() => {
          Circle.members(d).set(member, { role: 'admin', joinedAt: 1 })
          Circle.members(d).set(stranger, { role: 'member', joinedAt: 1 })
        })
      }),
    ).toMatchObject({ forbidden: true })
  })
})

describe('profile and settings rules', () => {
  it('are written only by the DID they belong to', () => {
    const p = room('profile', owner)
    expect(p.write(stranger, (d) => Profile.attributes(d).set('displayName', 'Not Alice'))).toMatchObject({
      forbidden: true,
    })
    expect(p.write(owner, (d) => Profile.set(d, 'displayName', 'Alice'))).toBeNull()
    const s = room('settings', owner)
    expect(s.write(stranger, (d) => Settings.values(d).set('theme', 'dark'))).toMatchObject({ forbidden: true })
    expect(s.write(owner, (d) => Settings.set(d, 'theme', 'dark'))).toBeNull()
  })
})

describe('typed helpers given a writer', () => {
  it('refuse a forbidden change locally with forbidden, before the document changes', () => {
    const d = new Y.Doc()
    Circle.addMember(d, owner, 'owner', 1, { did: owner, owner })
    Conversation.append(d, message('m1', owner), { did: owner })
    const forbidden = expect.objectContaining({ code: ErrorCode.Forbidden })
    expect(() => Conversation.append(d, message('m2', owner), { did: member })).toThrowError(forbidden)
    expect(() => Conversation.remove(d, 'm1', { did: member })).toThrowError(forbidden)
    expect(() => Circle.addMember(d, member, 'admin', 1, { did: member, owner })).toThrowError(forbidden)
    expect(() => Circle.removeMember(d, owner, { did: member, owner })).toThrowError(forbidden)
    expect(() => Profile.set(d, 'displayName', 'x', { did: member, owner })).toThrowError(forbidden)
    expect(Conversation.messages(d).length).toBe(1)
    expect(Object.keys(Circle.members(d).toJSON())).toEqual([owner])
  })
})
