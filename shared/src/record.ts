/**
 * Signed content records, the unit the indexer stores, the DHT carries and
 * federation forwards. Wire form: the canonical encoding (deterministic CBOR)
 * of a map with the fields of `ContentRecord`. The signature is Ed25519 by
 * `author` over the canonical encoding of the other fields plus a domain tag
 * (`v: "vivim-record/1"`), so a record signature can never be replayed as
 * another kind of signed object. A record whose `value` is empty is a
 * tombstone: its key was deleted.
 *
 * @example
 * ```ts
 * import { createRecord, validateRecord, formatRecordKey } from '@vivim/shared'
 * const key = formatRecordKey({ kind: 'profile', owner: alice.did })
 * const record = createRecord(alice, { key, value: utf8ToBytes(JSON.stringify({ name: 'Alice' })) })
 * await validateRecord(record) // rejects a VivimError with a precise code if anything is wrong
 * ```
 */

import { compareBytes, decodeCanonical, encodeCanonical } from './canonical.ts'
import { type Capability, decodeCapability, encodeCapability } from './capability.ts'
import { verifyCapability } from './capability-verify.ts'
import { ErrorCode, VivimError } from './errors.ts'
import { type Did, type Identity, isDid, sign, verifyAsync } from './identity.ts'
import { Limits } from './limits.ts'
import { parseRecordKey } from './record-key.ts'

/** The domain tag (`v`) of a record's signing bytes. */
export const RECORD_DOMAIN = 'vivim-record/1'

/** A signed content record (`docs/protocol.md`, Content records). */
export interface ContentRecord {
  readonly key: string
  readonly value: Uint8Array
  /** Peers (DIDs or libp2p peer ids) the author says hold the content. */
  readonly providers: readonly string[]
  /** Milliseconds since the Unix epoch, set by the author. */
  readonly timestamp: number
  readonly author: Did
  /** Whether the record may be indexed for search and listed by author. */
  readonly public: boolean
  /**
   * For an author who is not the key's owner: the capability (encoded,
   * `shared/src/capability.ts`) by which the owner lets the author write
   * the key (`delete` for a tombstone), addressed to the author and valid at
   * `timestamp`. Absent otherwise.
   */
  readonly cap?: Uint8Array
  readonly signature: Uint8Array
}

/** A record before it is signed. */
export type UnsignedRecord = Omit<ContentRecord, 'signature'>

/** What `createRecord` needs; the rest has defaults (now, private, no providers). */
export interface RecordInit {
  key: string
  value: Uint8Array
  providers?: readonly string[]
  timestamp?: number
  public?: boolean
  /** The owner's grant that lets a non-owner author write this key. */
  cap?: Capability
}

/** Creates and signs a record by `author`. */
export function createRecord(author: Identity, init: RecordInit): ContentRecord {
  const unsigned: UnsignedRecord = {
    key: init.key,
    value: init.value,
    providers: init.providers ?? [],
    timestamp: init.timestamp ?? Date.now(),
    author: author.did,
    public: init.public ?? false,
    ...(init.cap ? { cap: encodeCapability(init.cap) } : {}),
  }
  return { ...unsigned, signature: sign(author, recordSigningBytes(unsigned)) }
}

/** The bytes a record's signature covers: every field but `signature`, plus `v`. */
export function recordSigningBytes(record: UnsignedRecord): Uint8Array {
  return encodeCanonical({
    v: RECORD_DOMAIN,
    key: record.key,
    value: record.value,
    providers: [...record.providers],
    timestamp: record.timestamp,
    author: record.author,
    public: record.public,
    ...(record.cap ? { cap: record.cap } : {}),
  })
}

/** A record's wire form (canonical CBOR). */
export function encodeRecord(record: ContentRecord): Uint8Array {
  return encodeCanonical({ ...record, providers: [...record.providers] })
}

/** Decodes a record's wire form and checks its shape (not its signature: see `validateRecord`). */
export function decodeRecord(bytes: Uint8Array): ContentRecord {
  if (bytes.length > Limits.maxRecordBytes) {
    throw new VivimError(ErrorCode.PayloadTooLarge, `record is larger than ${Limits.maxRecordBytes} bytes`)
  }
  const value = decodeCanonical(bytes)
  assertRecordShape(value)
  return value
}

const FIELDS = ['author', 'key', 'providers', 'public', 'signature', 'timestamp', 'value']
const FIELDS_WITH_CAP = ['author', 'cap', 'key', 'providers', 'public', 'signature', 'timestamp', 'value']

function assertRecordShape(value: unknown): asserts value is ContentRecord {
  const r = value as Record<string, unknown>
  const keys = typeof value === 'object' && value !== null ? Object.keys(r).sort().join() : ''
  const ok =
    (keys === FIELDS.join() || (keys === FIELDS_WITH_CAP.join() && r.cap instanceof Uint8Array)) &&
    typeof r.key === 'string' &&
    r.value instanceof Uint8Array &&
    Array.isArray(r.providers) &&
    r.providers.every((p) => typeof p === 'string') &&
    Number.isSafeInteger(r.timestamp) &&
    (r.timestamp as number) >= 0 &&
    typeof r.author === 'string' &&
    typeof r.public === 'boolean' &&
    r.signature instanceof Uint8Array
  if (!ok) {
    throw new VivimError(ErrorCode.InvalidRecord, `a record is a map of exactly: ${FIELDS.join(', ')} (and cap)`)
  }
}

/** How `validateRecord` checks a record. */
export interface ValidateOptions {
  /** The validator's clock, in ms since the epoch. */
  now?: number
  /**
   * Set by a node taking the record in as a write (an edge's `PUT`, or a
   * record it adopts from elsewhere): a delegate's grant must then also hold
   * at `now`. The record's `timestamp` is the author's to choose, so a
   * delegate whose grant has ended could otherwise sign a record dated
   * inside the old window. Readers leave it unset: a record written while
   * its grant held stays readable after the grant ends.
   */
  receiving?: boolean
}

/** What a delegate's grant must allow: `delete` for a tombstone (an empty value), `write` for anything else. */
export function recordAction(record: Pick<ContentRecord, 'value'>): 'write' | 'delete' {
  return record.value.length === 0 ? 'delete' : 'write'
}

/**
 * Full validation of a record: shape, key namespace, sizes, ownership (or
 * the owner's grant: `write`, or `delete` for a tombstone), timestamp skew
 * and signature, cheapest first. Rejects with a `VivimError` whose code says
 * which rule failed. Signatures are checked with `verifyAsync` (strict RFC
 * 8032, native where the platform can).
 */
export async function validateRecord(record: ContentRecord, options: ValidateOptions = {}): Promise<void> {
  assertRecordShape(record)
  const { owner } = parseRecordKey(record.key)
  if (record.value.length > Limits.maxRecordValueBytes) {
    throw new VivimError(ErrorCode.ValueTooLarge, `record value is larger than ${Limits.maxRecordValueBytes} bytes`)
  }
  if (
    record.providers.length > Limits.maxRecordProviders ||
    record.providers.some((p) => p.length === 0 || p.length > Limits.maxProviderBytes)
  ) {
    throw new VivimError(
      ErrorCode.InvalidRecord,
      `at most ${Limits.maxRecordProviders} providers of 1-${Limits.maxProviderBytes} characters`,
    )
  }
  if (encodeRecord(record).length > Limits.maxRecordBytes) {
    throw new VivimError(ErrorCode.PayloadTooLarge, `record is larger than ${Limits.maxRecordBytes} bytes`)
  }
  if (!isDid(record.author)) throw new VivimError(ErrorCode.InvalidDid, 'record author is not a did:key DID')
  const now = options.now ?? Date.now()
  if (record.author !== owner) {
    if (!record.cap) throw new VivimError(ErrorCode.Forbidden, 'only the owner, or one it grants, may sign this record')
    const cap = decodeCapability(record.cap)
    const check = (at: number) =>
      verifyCapability(cap, {
        resource: `record:${record.key}`,
        action: recordAction(record),
        audience: record.author,
        now: at,
        ownerOf: () => owner,
      })
    // The grant must hold at the time the author says it signed, whoever checks it later...
    await check(record.timestamp)
    // ...and, for a write taken in now, at the time it arrives: the timestamp alone can be backdated.
    if (options.receiving && now !== record.timestamp) await check(now)
  }
  if (record.timestamp > now + Limits.maxClockSkewMs) {
    throw new VivimError(
      ErrorCode.TimestampInFuture,
      `record timestamp is more than ${Limits.maxClockSkewMs} ms ahead of this node's clock`,
    )
  }
  if (!(await verifyAsync(record.author, recordSigningBytes(record), record.signature))) {
    throw new VivimError(ErrorCode.InvalidSignature, 'record signature does not verify for its author')
  }
}

/**
 * Which of two valid records for one key wins: the newer timestamp, then the
 * bytewise greater signature. Commutative, so every node that sees both keeps
 * the same one, whatever the order they arrived in.
 */
export function selectRecord(a: ContentRecord, b: ContentRecord): ContentRecord {
  if (a.timestamp !== b.timestamp) return a.timestamp > b.timestamp ? a : b
  return compareBytes(a.signature, b.signature) >= 0 ? a : b
}

/** The index of the winning record, in the shape of a libp2p record selector. */
export function selectRecordIndex(records: readonly ContentRecord[]): number {
  let best = 0
  for (let i = 1; i < records.length; i++) {
    const current = records[best] as ContentRecord
    if (selectRecord(current, records[i] as ContentRecord) !== current) best = i
  }
  return best
}
