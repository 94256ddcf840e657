import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { Circle, Conversation, Profile, Settings } from '../src/doc-helpers.ts'
import { createSchemaGuard, defineRoots } from '../src/doc-schema.ts'
import { type DocType, parseDocId } from '../src/doc-types.ts'
import { ErrorCode } from '../src/errors.ts'
import { generateIdentity } from '../src/identity.ts'

const alice = generateIdentity()

/** Applies what `write` does on a client doc to a guarded room doc; returns the guard's verdict. */
function verdict(type: DocType, write: (doc: Y.Doc) => void): string | null {
  const room = new Y.Doc()
  defineRoots(room, type)
  const guard = createSchemaGuard(room, type)
  const client = new Y.Doc()
  write(client)
  Y.applyUpdate(room, Y.encodeStateAsUpdate(client))
  return guard.take()?.reason ?? null
}

describe('document ids', () => {
  it('tell typed from free-form documents', () => {
    expect(parseDocId('conversation:abc')).toEqual({ docId: 'conversation:abc', type: 'conversation' })
    expect(parseDocId(`profile:${alice.did}`).type).toBe('profile')
    expect(parseDocId('notes-2026').type).toBeNull()
    expect(parseDocId('wiki:page').type).toBeNull()
  })

  it.each(['', 'a b', 'x/y', 'settings:', 'x'.repeat(257)])('rejects %j', (id) => {
    expect(() => parseDocId(id)).toThrowError(expect.objectContaining({ code: ErrorCode.BadRequest }))
  })
})

describe('schema guard', () => {
  it('accepts what the typed helpers write', () => {
    expect(
      verdict('conversation', (d) => {
        Conversation.append(d, { id: 'm1', author: alice.did, text: 'hi', ts: 1, replyTo: 'm0' })
        Conversation.setTitle(d, 'Plans')
      }),
    ).toBeNull()
    expect(
      verdict('circle', (d) => {
        Circle.addMember(d, alice.did, 'owner', 5)
        Circle.meta(d).set('name', 'Book club')
      }),
    ).toBeNull()
    expect(verdict('profile', (d) => Profile.set(d, 'displayName', 'Alice'))).toBeNull()
    expect(
      verdict('settings', (d) => {
        Settings.set(d, 'theme', 'dark')
        Settings.set(d, 'notifications', false)
        Settings.set(d, 'fontSize', 14)
      }),
    ).toBeNull()
  })

  it('accepts deleting entries', () => {
    expect(
      verdict('circle', (d) => {
        Circle.addMember(d, alice.did, 'member', 1)
        Circle.removeMember(d, alice.did)
      }),
    ).toBeNull()
  })

  it.each<[string, DocType, (d: Y.Doc) => void]>([
    ['a message missing fields', 'conversation', (d) => d.getArray('messages').push([{ id: 'm1' }])],
    [
      'a message with extra fields',
      'conversation',
      (d) => d.getArray('messages').push([{ id: 'm', author: 'a', text: '', ts: 1, x: 1 }]),
    ],
    ['a string where a message goes', 'conversation', (d) => d.getArray('messages').push(['hello'])],
    ['an unknown root', 'conversation', (d) => d.getArray('spam').push([1])],
    ['a map written as an array', 'circle', (d) => d.getArray('members').push([1])],
    ['an array written as a map', 'conversation', (d) => d.getMap('messages').set('k', 1)],
    ['a nested shared type', 'profile', (d) => d.getMap('profile').set('bio', new Y.Text('x'))],
    ['binary content', 'settings', (d) => d.getMap('settings').set('blob', new Uint8Array(3))],
    ['an unknown profile field', 'profile', (d) => d.getMap('profile').set('ssn', '123')],
    ['an over-long display name', 'profile', (d) => d.getMap('profile').set('displayName', 'x'.repeat(65))],
    ['a member with a bad role', 'circle', (d) => d.getMap('members').set(alice.did, { role: 'god', joinedAt: 1 })],
    ['a member not keyed by DID', 'circle', (d) => d.getMap('members').set('alice', { role: 'member', joinedAt: 1 })],
    ['a setting that is an object', 'settings', (d) => d.getMap('settings').set('x', { a: 1 })],
  ])('refuses %s', (_, type, write) => {
    expect(verdict(type, write)).toEqual(expect.any(String))
  })

  it.each<[string, DocType, (d: Y.Doc) => void]>([
    ['a malformed message', 'conversation', (d) => d.getArray('messages').push([{ junk: 'x'.repeat(1000) }])],
    ['an unknown root', 'conversation', (d) => d.getArray('spam').push([1])],
  ])('refuses %s inserted and deleted within one update', (_, type, write) => {
    expect(
      verdict(type, (d) => {
        d.gc = false // keep the deleted content in the update, as a crafted one would
        d.transact(() => {
          write(d)
          for (const name of ['messages', 'spam']) {
            const array = d.getArray(name)
            if (array.length > 0) array.delete(0, array.length)
          }
        })
      }),
    ).toEqual(expect.any(String))
  })

  it.each(['constructor', '__proto__', 'toString'])(
    'refuses a root named %s, even with its content deleted',
    (root) => {
      expect(
        verdict('conversation', (d) => {
          d.getArray(root).push([1])
          d.getArray(root).delete(0, 1)
        }),
      ).toEqual(expect.stringContaining('unknown root'))
    },
  )

  it('typed helpers refuse malformed values before they reach the wire', () => {
    const d = new Y.Doc()
    expect(() => Conversation.append(d, { id: '', author: 'a', text: 'x', ts: 1 })).toThrowError(
      expect.objectContaining({ code: ErrorCode.BadRequest }),
    )
    expect(() => Circle.addMember(d, 'not-a-did', 'member')).toThrow()
    expect(() => Settings.set(d, '', 1)).toThrow()
    expect(Conversation.messages(d).length).toBe(0)
  })
})
