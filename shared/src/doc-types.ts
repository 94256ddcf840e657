/**
 * The document types of VIVIM and their schemas. A document id is
 * `<type>:<id>` for a typed document (the room enforces the type's schema on
 * every write) or any other id for a free-form one:
 *
 *   conversation:<id>  Y.Array `messages` of messages, Y.Map `meta`
 *   circle:<id>        Y.Map `members` (member DID to role), Y.Map `meta`
 *   profile:<did>      Y.Map `profile` of known attributes
 *   settings:<did>     Y.Map `settings` of preference name to JSON scalar
 *
 * Values are plain JSON (Yjs `ContentAny`); nested shared types are refused
 * in typed documents, so a schema check sees every value that is written.
 */
import { ErrorCode, VivimError } from './errors.ts'
import { isDid } from './identity.ts'

/** The typed documents: the prefix of their ids. */
export const DocTypes = ['conversation', 'circle', 'profile', 'settings'] as const
/** One of `DocTypes`. */
export type DocType = (typeof DocTypes)[number]

const DOC_ID = /^[A-Za-z0-9._~:@+-]{1,256}$/

/** A document id and the type its prefix names, if any. */
export interface ParsedDocId {
  readonly docId: string
  /** The schema the room enforces, or null for a free-form document. */
  readonly type: DocType | null
}

/** Checks a document id (1-256 characters of `A-Z a-z 0-9 . _ ~ : @ + -`) and reads its type; throws `bad_request`. */
export function parseDocId(docId: string): ParsedDocId {
  if (!DOC_ID.test(docId)) {
    throw new VivimError(ErrorCode.BadRequest, 'a document id is 1-256 characters of A-Z a-z 0-9 . _ ~ : @ + -')
  }
  const prefix = docId.slice(0, docId.indexOf(':'))
  const type = (DocTypes as readonly string[]).includes(prefix) ? (prefix as DocType) : null
  if (type !== null && docId.length === prefix.length + 1) {
    throw new VivimError(ErrorCode.BadRequest, `a ${type} document id needs an id after "${type}:"`)
  }
  return { docId, type }
}

/** Checks one value; returns a reason when it is malformed, else null. */
export type ValueCheck = (value: unknown, key: string | null) => string | null

/** One root of a typed document: its Yjs type and what its values may be. */
export interface RootSpec {
  readonly kind: 'array' | 'map'
  readonly check: ValueCheck
}

/** A typed document's roots, by name. */
export type DocSchema = Readonly<Record<string, RootSpec>>

/** A message of a conversation's `messages` array. */
export interface ConversationMessage {
  id: string
  author: string
  text: string
  /** Milliseconds since the Unix epoch. */
  ts: number
  replyTo?: string
}

/** A circle member's role. */
export type CircleRole = 'owner' | 'admin' | 'member'

/** An entry of a circle's `members` map. */
export interface CircleMember {
  role: CircleRole
  joinedAt: number
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array)
const isText = (v: unknown, max: number): v is string => typeof v === 'string' && v.length <= max
const isTime = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0
const onlyKeys = (v: Record<string, unknown>, allowed: readonly string[]) =>
  Object.keys(v).every((k) => allowed.includes(k))

const checkMessage: ValueCheck = (v) => {
  if (!isObject(v) || !onlyKeys(v, ['id', 'author', 'text', 'ts', 'replyTo'])) {
    return 'a message is { id, author, text, ts, replyTo? }'
  }
  if (!isText(v.id, 128) || v.id.length === 0) return 'message id must be 1-128 characters'
  if (!isText(v.author, 128) || v.author.length === 0) return 'message author must be 1-128 characters'
  if (!isText(v.text, 16_384)) return 'message text must be a string of at most 16384 characters'
  if (!isTime(v.ts)) return 'message ts must be milliseconds since the epoch'
  if (v.replyTo !== undefined && !isText(v.replyTo, 128)) return 'replyTo must be a message id'
  return null
}

const metaFields = (fields: Record<string, number>): ValueCheck => {
  return (v, key) => {
    const max = key === null ? undefined : fields[key]
    if (max === undefined) return `unknown field; expected one of ${Object.keys(fields).join(', ')}`
    return isText(v, max) ? null : `${key} must be a string of at most ${max} characters`
  }
}

const checkMember: ValueCheck = (v, key) => {
  if (!isDid(key)) return 'a member is keyed by its did:key DID'
  if (!isObject(v) || !onlyKeys(v, ['role', 'joinedAt'])) return 'a member is { role, joinedAt }'
  if (v.role !== 'owner' && v.role !== 'admin' && v.role !== 'member') return 'role is owner, admin or member'
  return isTime(v.joinedAt) ? null : 'joinedAt must be milliseconds since the epoch'
}

const checkSetting: ValueCheck = (v, key) => {
  if (key === null || key.length === 0 || key.length > 128) return 'a setting name is 1-128 characters'
  const scalar = v === null || typeof v === 'boolean' || Number.isFinite(v) || isText(v, 4096)
  return scalar ? null : 'a setting is null, a boolean, a finite number or a string of at most 4096 characters'
}

/** The schema of each document type. */
export const DocSchemas: Readonly<Record<DocType, DocSchema>> = {
  conversation: {
    messages: { kind: 'array', check: checkMessage },
    meta: { kind: 'map', check: metaFields({ title: 256, topic: 1024 }) },
  },
  circle: {
    members: { kind: 'map', check: checkMember },
    meta: { kind: 'map', check: metaFields({ name: 128, description: 1024, visibility: 16 }) },
  },
  profile: {
    profile: {
      kind: 'map',
      check: metaFields({ displayName: 64, bio: 1024, avatar: 2048, pronouns: 32, location: 128, website: 2048 }),
    },
  },
  settings: {
    settings: { kind: 'map', check: checkSetting },
  },
}
