/**
 * Federation transactions: the body of every `POST /v1/federation/inbox`.
 * One transaction carries one activity from one instance to another, in the
 * canonical CBOR of
 *
 *   { v: "vivim-fed/1", id, from, to, seq, at, activity }
 *
 *   id       22 base64url characters (16 random bytes): the receiver applies
 *            a transaction id once, however often it is delivered;
 *   from/to  the sending and the receiving instance's DIDs;
 *   seq      consecutive per (from, to) pair, in the order the sender's outbox
 *            accepted them (the first need not be 1): the receiver applies
 *            them in this order and answers with its cursor, the last seq it
 *            applied;
 *   at       when the sender accepted it, ms since the epoch;
 *   activity one of (`t` is the tag):
 *     { t: "topic.subscribe", topic }                 the sender federates the topic: messages flow both ways
 *     { t: "topic.message", topic, envelope: bytes }  a signed topic envelope, its original bytes
 *     { t: "doc.sync", doc, sv: bytes, reply: bool }  the sender's Yjs state vector; answer with a
 *                                                     doc.update of what it lacks (and, unless reply,
 *                                                     a doc.sync of your own with reply: true)
 *     { t: "doc.update", doc, update: bytes }         a Yjs update
 *     { t: "doc.part", doc, of, index, count, part: bytes }
 *                                                     part `index` (0-based) of `count` of a Yjs update
 *                                                     too large for one transaction; `of` is the whole
 *                                                     update's sha-256 (base64url): applied once all are in
 *     { t: "doc.home", doc }                          the sender is the document's home and the receiver
 *                                                     its replica: link it as home and send it a doc.sync
 *     { t: "revocation", revocation: bytes, token: bytes }
 *     { t: "gap", after }                             the sender no longer holds the transactions up to
 *                                                     seq `after`: the receiver moves its cursor there
 *
 * The request is authenticated by its HTTP signature (`http-signature.ts`),
 * not by the body: the body's `from` must be the signature's key.
 *
 * @example
 * ```ts
 * const bytes = encodeTransaction({ id: newTransactionId(), from: a.did, to: b.did, seq: 1, at: Date.now(),
 *   activity: { t: ActivityType.TopicSubscribe, topic: 'circle:messages:c1' } })
 * decodeTransaction(bytes).activity.t // 'topic.subscribe'
 * ```
 */
import { randomBytes } from '@noble/hashes/utils.js'
import { base64urlnopad } from '@scure/base'
import { decodeCanonical, encodeCanonical } from './canonical.ts'
import { ErrorCode, VivimError } from './errors.ts'
import { type Did, isDid } from './identity.ts'
import { Limits } from './limits.ts'

/** The `v` of every transaction. */
export const FEDERATION_FORMAT = 'vivim-fed/1'

/** The `t` of each activity a transaction carries. */
export const ActivityType = {
  TopicSubscribe: 'topic.subscribe',
  TopicMessage: 'topic.message',
  DocSync: 'doc.sync',
  DocUpdate: 'doc.update',
  DocPart: 'doc.part',
  DocHome: 'doc.home',
  Revocation: 'revocation',
  Gap: 'gap',
} as const
/** One of `ActivityType`. */
export type ActivityType = (typeof ActivityType)[keyof typeof ActivityType]

/** What a transaction asks the receiver to do (`docs/federation.md`, Transactions). */
export type Activity =
  | { readonly t: typeof ActivityType.TopicSubscribe; readonly topic: string }
  | { readonly t: typeof ActivityType.TopicMessage; readonly topic: string; readonly envelope: Uint8Array }
  | { readonly t: typeof ActivityType.DocSync; readonly doc: string; readonly sv: Uint8Array; readonly reply: boolean }
  | { readonly t: typeof ActivityType.DocUpdate; readonly doc: string; readonly update: Uint8Array }
  | {
      readonly t: typeof ActivityType.DocPart
      readonly doc: string
      readonly of: string
      readonly index: number
      readonly count: number
      readonly part: Uint8Array
    }
  | { readonly t: typeof ActivityType.DocHome; readonly doc: string }
  | { readonly t: typeof ActivityType.Revocation; readonly revocation: Uint8Array; readonly token: Uint8Array }
  | { readonly t: typeof ActivityType.Gap; readonly after: number }

/** One signed server-to-server delivery: `{ v, id, from, to, seq, at, activity }`. */
export interface Transaction {
  readonly id: string
  readonly from: Did
  readonly to: Did
  readonly seq: number
  readonly at: number
  readonly activity: Activity
}

/** What the inbox answers (JSON): the last seq it applied from this sender. */
export interface InboxReceipt {
  readonly cursor: number
  /** The transaction had been applied before; nothing changed. */
  readonly duplicate: boolean
}

const TRANSACTION_ID = /^[A-Za-z0-9_-]{22}$/

/** A fresh transaction id: 16 random bytes in base64url. */
export function newTransactionId(): string {
  return base64urlnopad.encode(randomBytes(16))
}

/** A transaction's wire form, the body of an inbox request. */
export function encodeTransaction(tx: Transaction): Uint8Array {
  return encodeCanonical({ v: FEDERATION_FORMAT, ...tx, activity: { ...tx.activity } })
}

/**
 * Yjs updates larger than this travel as `doc.part`s of at most this many
 * bytes, so every transaction fits `Limits.maxFederationTransactionBytes`.
 */
export const DOC_PART_BYTES = 128 * 1024
/**
 * The largest Yjs update one `doc.update` or set of `doc.part`s carries: what
 * a document room takes in one frame (`Limits.maxFrameBytes`, less its
 * framing). A larger state travels as several updates.
 */
export const MAX_FEDERATED_UPDATE_BYTES = Limits.maxFrameBytes - 64
/** Most parts of one update. */
export const MAX_DOC_PARTS = Math.ceil(MAX_FEDERATED_UPDATE_BYTES / DOC_PART_BYTES)

type FieldKind = 'string' | 'bytes' | 'boolean' | 'count'

const ACTIVITY_FIELDS: Record<ActivityType, Record<string, FieldKind>> = {
  'topic.subscribe': { topic: 'string' },
  'topic.message': { topic: 'string', envelope: 'bytes' },
  'doc.sync': { doc: 'string', sv: 'bytes', reply: 'boolean' },
  'doc.update': { doc: 'string', update: 'bytes' },
  'doc.part': { doc: 'string', of: 'string', index: 'count', count: 'count', part: 'bytes' },
  'doc.home': { doc: 'string' },
  revocation: { revocation: 'bytes', token: 'bytes' },
  gap: { after: 'count' },
}

const HASH = /^[A-Za-z0-9_-]{43}$/

function fieldIs(kind: FieldKind, v: unknown): boolean {
  if (kind === 'bytes') return v instanceof Uint8Array
  if (kind === 'count') return Number.isSafeInteger(v) && (v as number) >= 0
  return typeof v === kind
}

const bad = (message: string) => new VivimError(ErrorCode.BadRequest, `not a federation transaction: ${message}`)

function hasExactly(value: Record<string, unknown>, keys: string[]): boolean {
  const own = Object.keys(value).sort()
  return own.length === keys.length && [...keys].sort().every((k, i) => own[i] === k)
}

function readActivity(value: unknown): Activity {
  const a = (value ?? {}) as Record<string, unknown>
  const fields =
    typeof a.t === 'string' && Object.hasOwn(ACTIVITY_FIELDS, a.t) ? ACTIVITY_FIELDS[a.t as ActivityType] : null
  if (fields === null || typeof a !== 'object' || !hasExactly(a, ['t', ...Object.keys(fields)])) {
    throw bad('unknown activity')
  }
  for (const [name, kind] of Object.entries(fields)) {
    if (!fieldIs(kind, a[name])) throw bad(`activity field ${name} is not ${kind}`)
  }
  if (a.t === ActivityType.DocPart) {
    const { of, index, count, part } = a as { of: string; index: number; count: number; part: Uint8Array }
    const ok = HASH.test(of) && count >= 2 && count <= MAX_DOC_PARTS && index < count && part.length <= DOC_PART_BYTES
    if (!ok) throw bad('a document part needs a sha-256, 2 to MAX_DOC_PARTS parts and an index below the count')
  }
  return a as unknown as Activity
}

/** One activity on its own, as an outbox keeps it until it is sent inside a transaction. */
export function encodeActivity(activity: Activity): Uint8Array {
  return encodeCanonical({ ...activity })
}

/** Decodes an activity kept on its own (`encodeActivity`) and checks its fields. */
export function decodeActivity(bytes: Uint8Array): Activity {
  return readActivity(decodeCanonical(bytes))
}

/** Decodes an inbox request's body and checks every field; throws a `VivimError`. */
export function decodeTransaction(bytes: Uint8Array): Transaction {
  if (bytes.length > Limits.maxFederationTransactionBytes) {
    throw new VivimError(
      ErrorCode.PayloadTooLarge,
      `a transaction is at most ${Limits.maxFederationTransactionBytes} bytes`,
    )
  }
  const v = decodeCanonical(bytes) as Record<string, unknown>
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) throw bad('not a map')
  if (!hasExactly(v, ['v', 'id', 'from', 'to', 'seq', 'at', 'activity']) || v.v !== FEDERATION_FORMAT) {
    throw bad('unknown fields or format')
  }
  const ok =
    typeof v.id === 'string' &&
    TRANSACTION_ID.test(v.id) &&
    isDid(v.from) &&
    isDid(v.to) &&
    Number.isSafeInteger(v.seq) &&
    (v.seq as number) >= 1 &&
    Number.isSafeInteger(v.at)
  if (!ok) throw bad('bad id, from, to, seq or at')
  const { v: _, ...tx } = v
  return { ...(tx as unknown as Transaction), activity: readActivity(v.activity) }
}
