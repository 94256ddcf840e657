/**
 * The JSON form of a content record, for app developers who read and write
 * records without a CBOR library (a `fetch` and `JSON.parse` are enough to
 * read one). It carries exactly the fields of the wire form, with the two
 * byte fields (`value`, `signature`) in unpadded base64url (RFC 4648 §5).
 * It is only a transport: the signature is always over the canonical CBOR
 * signing bytes, so a record read as JSON verifies exactly as it would as CBOR.
 *
 * @example
 * ```ts
 * import { recordFromJson, recordToJson, validateRecord } from '@vivim/shared'
 * const json = recordToJson(record) // { key, value: 'eyJuYW1lIjoiQWxpY2UifQ', …, signature: '…' }
 * const back = recordFromJson(JSON.parse(JSON.stringify(json)))
 * await validateRecord(back) // the same record, the same signature
 * ```
 */
import { base64urlnopad } from '@scure/base'
import { ErrorCode, VivimError } from './errors.ts'
import type { Did } from './identity.ts'
import type { ContentRecord } from './record.ts'

/** The JSON form of a record: bytes in unpadded base64url. */
export interface RecordJson {
  key: string
  /** The value bytes, unpadded base64url. */
  value: string
  providers: string[]
  timestamp: number
  author: string
  public: boolean
  /** The owner's grant to a non-owner author, unpadded base64url; absent otherwise. */
  cap?: string
  /** The Ed25519 signature, unpadded base64url. */
  signature: string
}

const FIELDS = ['author', 'key', 'providers', 'public', 'signature', 'timestamp', 'value']
const FIELDS_WITH_CAP = ['author', 'cap', 'key', 'providers', 'public', 'signature', 'timestamp', 'value']

/** A record in its JSON form. */
export function recordToJson(record: ContentRecord): RecordJson {
  return {
    key: record.key,
    value: base64urlnopad.encode(record.value),
    providers: [...record.providers],
    timestamp: record.timestamp,
    author: record.author,
    public: record.public,
    ...(record.cap ? { cap: base64urlnopad.encode(record.cap) } : {}),
    signature: base64urlnopad.encode(record.signature),
  }
}

/**
 * Reads the JSON form back into a record, checking its shape and that each
 * byte field is canonical unpadded base64url. Does not check the signature:
 * run `validateRecord` on the result.
 */
export function recordFromJson(json: unknown): ContentRecord {
  const r = json as Record<string, unknown>
  const ok =
    typeof json === 'object' &&
    json !== null &&
    !Array.isArray(json) &&
    [FIELDS.join(), FIELDS_WITH_CAP.join()].includes(Object.keys(r).sort().join()) &&
    (r.cap === undefined || typeof r.cap === 'string') &&
    typeof r.key === 'string' &&
    typeof r.value === 'string' &&
    Array.isArray(r.providers) &&
    r.providers.every((p) => typeof p === 'string') &&
    Number.isSafeInteger(r.timestamp) &&
    (r.timestamp as number) >= 0 &&
    typeof r.author === 'string' &&
    typeof r.public === 'boolean' &&
    typeof r.signature === 'string'
  if (!ok) {
    throw new VivimError(ErrorCode.InvalidRecord, `a record in JSON is an object of exactly: ${FIELDS.join(', ')}`)
  }
  return {
    key: r.key as string,
    value: fromBase64url(r.value as string, 'value'),
    providers: [...(r.providers as string[])],
    timestamp: r.timestamp as number,
    author: r.author as Did,
    public: r.public as boolean,
    ...(typeof r.cap === 'string' ? { cap: fromBase64url(r.cap, 'cap') } : {}),
    signature: fromBase64url(r.signature as string, 'signature'),
  }
}

function fromBase64url(text: string, field: string): Uint8Array {
  let bytes: Uint8Array
  try {
    bytes = base64urlnopad.decode(text)
  } catch (cause) {
    throw new VivimError(ErrorCode.InvalidEncoding, `record ${field} is not unpadded base64url`, { cause })
  }
  if (base64urlnopad.encode(bytes) !== text) {
    throw new VivimError(ErrorCode.InvalidEncoding, `record ${field} is not canonical base64url`)
  }
  return bytes
}
