/**
 * Typed access to the documents of `doc-types.ts`, checked against the same
 * schema the room enforces, so an app finds a malformed write locally
 * instead of through a closed socket.
 *
 * @example
 * ```ts
 * import * as Y from 'yjs'
 * import { Conversation } from '@vivim/shared'
 * const doc = new Y.Doc()
 * Conversation.append(doc, { id: 'm1', author: alice.did, text: 'hello', ts: Date.now() })
 * Conversation.messages(doc).toArray() // [{ id: 'm1', … }]
 * ```
 */
import type * as Y from 'yjs'
import { type CircleMember, type CircleRole, type ConversationMessage, DocSchemas, type DocType } from './doc-types.ts'
import { ErrorCode, VivimError } from './errors.ts'

function check(type: DocType, root: string, value: unknown, key: string | null): void {
  const spec = DocSchemas[type][root]
  const problem = spec ? spec.check(value, key) : `unknown root ${root}`
  if (problem !== null) throw new VivimError(ErrorCode.BadRequest, `${type}.${root}: ${problem}`)
}

export type SettingValue = string | number | boolean | null

export const Conversation = {
  messages: (doc: Y.Doc): Y.Array<ConversationMessage> => doc.getArray('messages'),
  meta: (doc: Y.Doc): Y.Map<string> => doc.getMap('meta'),
  append(doc: Y.Doc, message: ConversationMessage): void {
    check('conversation', 'messages', message, null)
    Conversation.messages(doc).push([message])
  },
  setTitle(doc: Y.Doc, title: string): void {
    check('conversation', 'meta', title, 'title')
    Conversation.meta(doc).set('title', title)
  },
}

export const Circle = {
  members: (doc: Y.Doc): Y.Map<CircleMember> => doc.getMap('members'),
  meta: (doc: Y.Doc): Y.Map<string> => doc.getMap('meta'),
  addMember(doc: Y.Doc, did: string, role: CircleRole, joinedAt = Date.now()): void {
    const member: CircleMember = { role, joinedAt }
    check('circle', 'members', member, did)
    Circle.members(doc).set(did, member)
  },
  removeMember(doc: Y.Doc, did: string): void {
    Circle.members(doc).delete(did)
  },
}

export const Profile = {
  attributes: (doc: Y.Doc): Y.Map<string> => doc.getMap('profile'),
  set(doc: Y.Doc, name: string, value: string): void {
    check('profile', 'profile', value, name)
    Profile.attributes(doc).set(name, value)
  },
}

export const Settings = {
  values: (doc: Y.Doc): Y.Map<SettingValue> => doc.getMap('settings'),
  set(doc: Y.Doc, name: string, value: SettingValue): void {
    check('settings', 'settings', value, name)
    Settings.values(doc).set(name, value)
  },
}
