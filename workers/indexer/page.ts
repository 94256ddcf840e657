/**
 * Pagination for search and discovery: the `limit`, `kind` and `cursor`
 * query parameters. A cursor is opaque to clients (unpadded base64url of a
 * canonical CBOR map) and names the last result of the page before, so the
 * next page starts strictly after it in the listing's total order and no
 * result is repeated or skipped while the index is unchanged.
 */
import { base64urlnopad } from '@scure/base'
import {
  type CanonicalValue,
  decodeCanonical,
  ErrorCode,
  encodeCanonical,
  isRecordKind,
  Limits,
  type RecordKind,
  VivimError,
} from '@vivim/shared'
import type { SearchAfter } from './shard-store.ts'

/**
 * The `limit` query parameter: a whole number from 1 to `Limits.maxPageSize`.
 *
 * @example
 * ```ts
 * pageLimit(undefined) // Limits.defaultPageSize
 * pageLimit('10') // 10
 * ```
 */
export function pageLimit(text: string | undefined): number {
  if (text === undefined) return Limits.defaultPageSize
  const n = /^[1-9]\d{0,5}$/.test(text) ? Number(text) : Number.NaN
  if (!(n <= Limits.maxPageSize)) {
    throw new VivimError(ErrorCode.InvalidLimit, `limit must be a whole number from 1 to ${Limits.maxPageSize}`)
  }
  return n
}

/** The optional `kind` query parameter. */
export function kindFilter(text: string | undefined): RecordKind | null {
  if (text === undefined) return null
  if (!isRecordKind(text)) throw new VivimError(ErrorCode.UnknownKind, 'kind is not a record kind')
  return text
}

function encodeCursor(value: CanonicalValue): string {
  return base64urlnopad.encode(encodeCanonical(value))
}

function decodeCursor(text: string): Record<string, unknown> {
  try {
    if (text.length > Limits.maxCursorBytes) throw new Error('too long')
    const value = decodeCanonical(base64urlnopad.decode(text))
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not a map')
    return value as Record<string, unknown>
  } catch (cause) {
    throw new VivimError(ErrorCode.InvalidCursor, 'cursor is not one this edge gave out', { cause })
  }
}

function invalidCursor(): never {
  throw new VivimError(ErrorCode.InvalidCursor, 'cursor is not one this edge gave out')
}

export function encodeSearchCursor(after: SearchAfter): string {
  return encodeCursor({ s: after.score, k: after.key })
}

export function decodeSearchCursor(text: string | undefined): SearchAfter | null {
  if (text === undefined) return null
  const { s, k, ...rest } = decodeCursor(text)
  if (typeof s !== 'number' || typeof k !== 'string' || Object.keys(rest).length > 0) invalidCursor()
  return { score: s, key: k }
}

export function encodeKeyCursor(key: string): string {
  return encodeCursor({ a: key })
}

export function decodeKeyCursor(text: string | undefined): string | null {
  if (text === undefined) return null
  const { a, ...rest } = decodeCursor(text)
  if (typeof a !== 'string' || Object.keys(rest).length > 0) invalidCursor()
  return a
}
