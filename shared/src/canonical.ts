/**
 * The canonical byte encoding of everything that is signed or hashed:
 * deterministic CBOR, RFC 8949 §4.2.1 ("core deterministic encoding").
 *
 *   - integers, lengths and floats in their shortest form; definite lengths;
 *   - map keys sorted by the bytewise order of their own encodings;
 *   - data model: null, booleans, safe integers, finite numbers, UTF-8
 *     strings, byte strings, arrays, and maps with string keys; no tags,
 *     no `undefined`, no NaN or infinities, no bigints.
 *
 * `decodeCanonical` accepts only bytes that `encodeCanonical` would have
 * produced for the same value, so two parties that agree on a value always
 * agree on its bytes, and a signature never depends on who encoded it.
 *
 * @example
 * ```ts
 * import { encodeCanonical, decodeCanonical } from '@vivim/shared'
 * const bytes = encodeCanonical({ b: 1, a: [true, new Uint8Array([1])] })
 * decodeCanonical(bytes) // { a: [true, Uint8Array [1]], b: 1 }
 * ```
 */
import { decode, encode, rfc8949EncodeOptions } from 'cborg'
import { ErrorCode, VivimError } from './errors.ts'

/** A value the canonical encoding can carry. */
export type CanonicalValue =
  | null
  | boolean
  | number
  | string
  | Uint8Array
  | readonly CanonicalValue[]
  | { readonly [key: string]: CanonicalValue }

const decodeOptions = {
  strict: true,
  allowIndefinite: false,
  allowUndefined: false,
  allowInfinity: false,
  allowNaN: false,
  allowBigInt: false,
  rejectDuplicateMapKeys: true,
  useMaps: false,
  tags: [],
} as const

/**
 * Deterministic CBOR (RFC 8949 §4.2.1) of a value of the restricted data model; throws on anything outside it.
 *
 * @example
 * ```ts
 * encodeCanonical({ b: 1, a: [true, null] }) // keys sorted: a first
 * ```
 */
export function encodeCanonical(value: CanonicalValue): Uint8Array {
  assertCanonicalValue(value)
  return encode(value, rfc8949EncodeOptions)
}

/** Decodes deterministic CBOR, accepting only the bytes `encodeCanonical` would produce for the result. */
export function decodeCanonical(bytes: Uint8Array): CanonicalValue {
  let value: unknown
  try {
    value = decode(bytes, decodeOptions)
  } catch (cause) {
    throw new VivimError(ErrorCode.InvalidEncoding, `not CBOR: ${(cause as Error).message}`, {
      cause,
    })
  }
  assertCanonicalValue(value)
  if (!bytesEqual(encode(value, rfc8949EncodeOptions), bytes)) {
    throw new VivimError(ErrorCode.InvalidEncoding, 'CBOR is not in deterministic encoding')
  }
  return value
}

function assertCanonicalValue(value: unknown): asserts value is CanonicalValue {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) fail('numbers must be finite')
    if (Number.isInteger(value) && !Number.isSafeInteger(value)) fail('integer out of safe range')
    return
  }
  if (value instanceof Uint8Array) return
  if (Array.isArray(value)) {
    for (const item of value) assertCanonicalValue(item)
    return
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const item of Object.values(value)) assertCanonicalValue(item)
    return
  }
  fail(`unsupported value of type ${typeof value}`)
}

function fail(message: string): never {
  throw new VivimError(ErrorCode.InvalidEncoding, message)
}

/** Constant-shape byte comparison (not constant-time: never use for secrets). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** Bytewise lexicographic order: negative if `a` sorts first. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number)
    if (d !== 0) return d
  }
  return a.length - b.length
}
