/**
 * Typed access to the documents of `doc-types.ts`, checked against the same
 * schema and, given the writer, the same rules (`doc-rules.ts`) the room
 * enforces, so an app finds a malformed or forbidden write locally instead
 * of through a closed socket.
 *
 * @example
 * ```ts
 * import * as Y from 'yjs'
 * import { Conversation } from '@vivim/shared'
 * const doc = new Y.Doc()
 * Conversation.append(doc, { id: 'm1', author: alice.did, text: 'hello', ts: Date.now() })
 * Conversation.messages(doc).toArray() // [{ id: 'm1', … }]
 * // With a writer, the rules of `doc-rules.ts` are checked first: this throws `forbidden`.
 * Conversation.append(doc, { id: 'm2', author: bob.did, text: 'hi', ts: Date.now() }, { did: alice.did })
 * ```
 */
import type * as Y from 'yjs'
import { checkDocChange, type DocWriter } from './doc-rules.ts'
import { type CircleMember, type CircleRole, type ConversationMessage, DocSchemas, type DocType } from './doc-types.ts'
import { ErrorCode, VivimError } from './errors.ts'

/**
 * Who makes a local change, for the rules of `doc-rules.ts`: the DID the
 * app's connection writes as, and the document's owner when the app knows it
 * (a profile's or settings' owner is the DID in its id; a circle's or
 * conversation's is its creator). Without it only the schema is checked.
 */
export interface LocalWriter {
  readonly did: string
  readonly owner?: string | null
}

function check(type: DocType, root: string, value: unknown, key: string | null): void {
  const spec = DocSchemas[type][root]
  const problem = spec ? spec.check(value, key) : `unknown root ${root}`
  if (problem !== null) throw new VivimError(ErrorCode.BadRequest, `${type}.${root}: ${problem}`)
}

/** Throws `forbidden` with the rule's reason when `writer` may not make this change; roles as the doc holds them now. */
function allow(
  type: DocType,
  doc: Y.Doc,
  change: { root: string; key: string | null; value: unknown; op: 'insert' | 'delete' },
  writer: LocalWriter | undefined,
): void {
  if (writer === undefined) return
  const members = doc.getMap<CircleMember>('members')
  const as: DocWriter = {
    did: writer.did,
    owner: writer.owner ?? null,
    roleOf: (did) => (type === 'circle' ? (members.get(did)?.role ?? null) : null),
  }
  const problem = checkDocChange(type, change, as)
  if (problem !== null) throw new VivimError(ErrorCode.Forbidden, `${type}.${change.root}: ${problem}`)
}

/** Checks a map write: the new value as an insert and, when the key held one, the old value as a delete. */
function allowSet(type: DocType, doc: Y.Doc, root: string, key: string, value: unknown, writer?: LocalWriter): void {
  const map = doc.getMap(root)
  allow(type, doc, { root, key, value, op: 'insert' }, writer)
  if (map.has(key)) allow(type, doc, { root, key, value: map.get(key), op: 'delete' }, writer)
}

/** A value of a settings document. */
export type SettingValue = string | number | boolean | null

/**
 * Typed access to a `conversation:` document; given a writer, each change is checked against the rules first.
 *
 * @example
 * ```ts
 * Conversation.append(doc, { id: 'm1', author: me.did, text: 'hi', ts: Date.now() }, { did: me.did })
 * ```
 */
export const Conversation = {
  /** The `messages` array. */
  messages: (doc: Y.Doc): Y.Array<ConversationMessage> => doc.getArray('messages'),
  /** The `meta` map (`title`, `topic`). */
  meta: (doc: Y.Doc): Y.Map<string> => doc.getMap('meta'),
  /** Appends a message; with `writer`, throws `forbidden` unless its author is the writer. */
  append(doc: Y.Doc, message: ConversationMessage, writer?: LocalWriter): void {
    check('conversation', 'messages', message, null)
    allow('conversation', doc, { root: 'messages', key: null, value: message, op: 'insert' }, writer)
    Conversation.messages(doc).push([message])
  },
  /** Deletes the message with this id (only its author may). */
  remove(doc: Y.Doc, id: string, writer?: LocalWriter): void {
    const messages = Conversation.messages(doc)
    const index = messages.toArray().findIndex((m) => m.id === id)
    if (index < 0) return
    allow('conversation', doc, { root: 'messages', key: null, value: messages.get(index), op: 'delete' }, writer)
    messages.delete(index, 1)
  },
  /** Sets the title; with `writer`, only the owner or an admin may. */
  setTitle(doc: Y.Doc, title: string, writer?: LocalWriter): void {
    check('conversation', 'meta', title, 'title')
    allowSet('conversation', doc, 'meta', 'title', title, writer)
    Conversation.meta(doc).set('title', title)
  },
}

/** Typed access to a `circle:` document. */
export const Circle = {
  /** The `members` map: member DID to role and join time. */
  members: (doc: Y.Doc): Y.Map<CircleMember> => doc.getMap('members'),
  /** The `meta` map (`name`, `description`, `visibility`). */
  meta: (doc: Y.Doc): Y.Map<string> => doc.getMap('meta'),
  /** Adds or updates a member; with `writer`, only the owner or an admin may (only the owner grants `owner`). */
  addMember(doc: Y.Doc, did: string, role: CircleRole, joinedAt = Date.now(), writer?: LocalWriter): void {
    const member: CircleMember = { role, joinedAt }
    check('circle', 'members', member, did)
    allowSet('circle', doc, 'members', did, member, writer)
    Circle.members(doc).set(did, member)
  },
  /** Removes a member: the owner or an admin may (not the owner's entry), and anyone may remove themselves. */
  removeMember(doc: Y.Doc, did: string, writer?: LocalWriter): void {
    const members = Circle.members(doc)
    if (!members.has(did)) return
    allow('circle', doc, { root: 'members', key: did, value: members.get(did), op: 'delete' }, writer)
    members.delete(did)
  },
}

/** Typed access to a `profile:<did>` document. */
export const Profile = {
  /** The `profile` map of string attributes. */
  attributes: (doc: Y.Doc): Y.Map<string> => doc.getMap('profile'),
  /** Sets one attribute; with `writer`, only the DID in the id may. */
  set(doc: Y.Doc, name: string, value: string, writer?: LocalWriter): void {
    check('profile', 'profile', value, name)
    allowSet('profile', doc, 'profile', name, value, writer)
    Profile.attributes(doc).set(name, value)
  },
}

/** Typed access to a `settings:<did>` document. */
export const Settings = {
  /** The `settings` map. */
  values: (doc: Y.Doc): Y.Map<SettingValue> => doc.getMap('settings'),
  /** Sets one setting; with `writer`, only the DID in the id may. */
  set(doc: Y.Doc, name: string, value: SettingValue, writer?: LocalWriter): void {
    check('settings', 'settings', value, name)
    allowSet('settings', doc, 'settings', name, value, writer)
    Settings.values(doc).set(name, value)
  },
}
