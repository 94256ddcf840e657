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
 *   seq      1, 2, 3… per (from, to) pair, in the order the sender's outbox
 *            accepted them: the receiver applies them in this order and
 *            answers with its cursor, the last seq it applied;
 *   at       when the sender accepted it, ms since the epoch;
 *   activity one of (`t` is the tag):
 *     { t: "topic.subscribe", topic }                 the sender federates the topic: messages flow both ways
 *     { t: "topic.message", topic, envelope: bytes }  a signed topic envelope, its original bytes
 *     { t: "doc.sync", doc, sv: bytes, reply: bool }  the sender's Yjs state vector; answer with a
 *                                                     doc.update of what it lacks (and, unless reply,
 *                                                     a doc.sync of your own with reply: true)
 *     { t: "doc.update", doc, update: bytes }         a Yjs update
 *     { t: "revocation", revocation: bytes, token: bytes }
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

export const FEDERATION_FORMAT = 'vivim-fed/1'

export const ActivityType = {
  TopicSubscribe: 'topic.subscribe',
  TopicMessage: 'topic.message',
  DocSync: 'doc.sync',
  DocUpdate: 'doc.update',
  Revocation: 'revocation',
} as const
export type ActivityType = (typeof ActivityType)[keyof typeof ActivityType]

export type Activity =
  | { readonly t: typeof ActivityType.TopicSubscribe; readonly topic: string }
  | { readonly t: typeof ActivityType.TopicMessage; readonly topic: string; readonly envelope: Uint8Array }
  | { readonly t: typeof ActivityType.DocSync; readonly doc: string; readonly sv: Uint8Array; readonly reply: boolean }
  | { readonly t: typeof ActivityType.DocUpdate; readonly doc: string; readonly update: Uint8Array }
  | { readonly t: typeof ActivityType.Revocation; readonly revocation: Uint8Array; readonly token: Uint8Array }

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

export function newTransactionId(): string {
  return base64urlnopad.encode(randomBytes(16))
}

export function encodeTransaction(tx: Transaction): Uint8Array {
  return encodeCanonical({ v: FEDERATION_FORMAT, ...tx, activity: { ...tx.activity } })
}

const ACTIVITY_FIELDS: Record<ActivityType, Record<string, 'string' | 'bytes' | 'boolean'>> = {
  'topic.subscribe': { topic: 'string' },
  'topic.message': { topic: 'string', envelope: 'bytes' },
  'doc.sync': { doc: 'string', sv: 'bytes', reply: 'boolean' },
  'doc.update': { doc: 'string', update: 'bytes' },
  revocation: { revocation: 'bytes', token: 'bytes' },
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
    const v = a[name]
    const ok = kind === 'bytes' ? v instanceof Uint8Array : typeof v === kind
    if (!ok) throw bad(`activity field ${name} is not ${kind}`)
  }
  return a as unknown as Activity
}

/** One activity on its own, as an outbox keeps it until it is sent inside a transaction. */
export function encodeActivity(activity: Activity): Uint8Array {
  return encodeCanonical({ ...activity })
}

export function decodeActivity(bytes: Uint8Array): Activity {
  return readActivity(decodeCanonical(bytes))
}

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
