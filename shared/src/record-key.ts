import { utf8ToBytes } from '@noble/hashes/utils.js'
/**
 * The content record key namespace: `/vivim/<kind>/<id>`, where `<id>` is the
 * owner's DID, optionally followed by `/<name>` for kinds an owner holds many
 * of. The owner named in the key is the only author (or, with a capability,
 * the root of the authority) that may write it.
 *
 *   /vivim/profile/did:key:z6Mk…
 *   /vivim/circle/did:key:z6Mk…/book-club
 *
 * @example
 * ```ts
 * import { formatRecordKey, parseRecordKey } from '@vivim/shared'
 * const key = formatRecordKey({ kind: 'profile', owner: alice.did })
 * parseRecordKey(key).owner === alice.did // true
 * ```
 */
import { ErrorCode, VivimError } from './errors.ts'
import { type Did, isDid } from './identity.ts'
import { Limits } from './limits.ts'

/** Every record key starts with this. */
export const RECORD_KEY_PREFIX = '/vivim/'

/** The kinds of record a key may name. */
export const RecordKinds = ['profile', 'settings', 'circle', 'conversation', 'post', 'document'] as const
/** One of `RecordKinds`. */
export type RecordKind = (typeof RecordKinds)[number]

/** A record key's parts. */
export interface RecordKey {
  readonly kind: RecordKind
  readonly owner: Did
  readonly name?: string
}

const NAME = /^[A-Za-z0-9._~-]{1,128}$/

/** Whether a value is one of `RecordKinds`. */
export function isRecordKind(value: unknown): value is RecordKind {
  return typeof value === 'string' && (RecordKinds as readonly string[]).includes(value)
}

/**
 * The key `/vivim/<kind>/<owner>[/<name>]`; throws `invalid_key` if it would not parse back.
 *
 * @example
 * ```ts
 * formatRecordKey({ kind: 'profile', owner: alice.did }) // '/vivim/profile/did:key:z6Mk…'
 * ```
 */
export function formatRecordKey(key: RecordKey): string {
  const text = `${RECORD_KEY_PREFIX}${key.kind}/${key.owner}${key.name === undefined ? '' : `/${key.name}`}`
  parseRecordKey(text)
  return text
}

/** The parts of a record key; throws `invalid_key`. */
export function parseRecordKey(key: string): RecordKey {
  if (utf8ToBytes(key).length > Limits.maxRecordKeyBytes) {
    invalid(`record key is longer than ${Limits.maxRecordKeyBytes} bytes`)
  }
  if (!key.startsWith(RECORD_KEY_PREFIX)) invalid(`record key must start with ${RECORD_KEY_PREFIX}`)
  const [kind, owner, name, ...rest] = key.slice(RECORD_KEY_PREFIX.length).split('/')
  if (!isRecordKind(kind)) invalid(`unknown record kind; expected one of ${RecordKinds.join(', ')}`)
  if (!isDid(owner)) invalid('record key must name its owner as a did:key DID')
  if (rest.length > 0 || (name !== undefined && !NAME.test(name))) {
    invalid('record name must be 1-128 characters of A-Z a-z 0-9 . _ ~ -')
  }
  return name === undefined ? { kind, owner } : { kind, owner, name }
}

function invalid(message: string): never {
  throw new VivimError(ErrorCode.InvalidKey, message)
}
