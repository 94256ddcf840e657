/**
 * Who may change what inside a typed document: the authorship and role
 * rules, as data per document type. The room checks every entry a write
 * inserts or deletes against the writing socket's DID (`doc-schema.ts` walks
 * the transaction); the SDK's typed helpers (`doc-helpers.ts`) check the same
 * rules before they change a local document, so an app learns why a write
 * cannot be made instead of seeing its socket closed.
 *
 *   conversation  messages: a message's `author` is its writer; only its author edits or deletes it
 *                 meta:     only the owner (the conversation's creator) or an admin (a grant with `admin`)
 *   circle        members:  only the owner or admins (by role in `members`, or by an `admin`
 *                           grant); only an owner grants or removes `owner`;
 *                           nobody but the owner removes or demotes the owner; anyone may leave
 *                 meta:     only the owner or admins
 *   profile       only the DID in its id
 *   settings      only the DID in its id
 *
 * A change to a Y.Map entry is an insert of the new value and a delete of the
 * old one, so both halves are checked: an admin may write `members[x]` but
 * not over an entry whose role is `owner`.
 *
 * @example
 * ```ts
 * const why = checkDocChange('conversation', { root: 'messages', key: null, value: msg, op: 'insert' },
 *   { did: me.did, owner, roleOf: () => null })
 * if (why !== null) throw new Error(why)
 * ```
 */
import type { CircleRole, DocType } from './doc-types.ts'

/** One entry a write adds or removes. */
export interface DocChange {
  /** The root the entry lives in (`messages`, `members`, …). */
  readonly root: string
  /** The map key, or null for an array element. */
  readonly key: string | null
  /** The entry's value: the new one for an insert, the removed one for a delete. */
  readonly value: unknown
  readonly op: 'insert' | 'delete'
}

/** Who writes, as the rules see it. */
export interface DocWriter {
  /** The DID of the writing connection. */
  readonly did: string
  /** The document's owner: the DID its id names (profile, settings), else its creator; null if unknown. */
  readonly owner: string | null
  /** Whether the writer's credential grants `admin` on the document: it acts as an admin whatever `members` says. */
  readonly admin?: boolean
  /** A DID's role in a circle's `members` as it was before this write; null when it is not a member. */
  roleOf(did: string): CircleRole | null
}

/** Returns why the change is refused, or null when it is allowed. */
export type DocRule = (change: DocChange, writer: DocWriter) => string | null

const authorOf = (value: unknown): unknown => (value as { author?: unknown } | null)?.author
const roleIn = (value: unknown): unknown => (value as { role?: unknown } | null)?.role

/** The writer's own role: the document's owner is always `owner`, an `admin` grant at least `admin`. */
function roleOfWriter(writer: DocWriter): CircleRole | null {
  if (writer.did === writer.owner) return 'owner'
  const role = writer.roleOf(writer.did)
  return writer.admin === true && role !== 'owner' ? 'admin' : role
}

const managersOnly =
  (what: string): DocRule =>
  (_change, writer) => {
    const role = roleOfWriter(writer)
    return role === 'owner' || role === 'admin' ? null : `only the owner or an admin ${what}`
  }

const conversation: DocRule = (change, writer) => {
  if (change.root !== 'messages') return managersOnly('changes the conversation’s title and topic')(change, writer)
  if (authorOf(change.value) === writer.did) return null
  return change.op === 'insert'
    ? 'a message’s author must be the DID that writes it'
    : 'only its author edits or deletes a message'
}

const circleMembers: DocRule = (change, writer) => {
  const role = roleOfWriter(writer)
  if (change.op === 'delete' && change.key === writer.did) return null // anyone may leave
  if (role === 'owner') return null
  if (role !== 'admin') return 'only the owner or an admin changes the circle’s members'
  const touchesOwner = change.key === writer.owner || roleIn(change.value) === 'owner'
  return touchesOwner ? 'only the owner grants, removes or demotes an owner' : null
}

const circle: DocRule = (change, writer) =>
  change.root === 'members'
    ? circleMembers(change, writer)
    : managersOnly('changes the circle’s name and description')(change, writer)

const selfOnly: DocRule = (_change, writer) =>
  writer.owner !== null && writer.did === writer.owner ? null : `only ${writer.owner ?? 'its owner'} writes here`

/** The rules of each document type. */
export const DocRules: Readonly<Record<DocType, DocRule>> = {
  conversation,
  circle,
  profile: selfOnly,
  settings: selfOnly,
}

/** Checks one change of a typed document against its type's rules; the reason it is refused, or null. */
export function checkDocChange(type: DocType, change: DocChange, writer: DocWriter): string | null {
  return DocRules[type](change, writer)
}
