/**
 * Pagination for search and discovery: the `limit`, `kind` and `cursor`
 * query parameters. A cursor is opaque to clients (unpadded base64url of a
 * canonical CBOR map) and names where the page before ended, so the next
 * page starts strictly after it in the listing's total order: a listing's
 * cursor names its last key; a search's, each shard's last (rank, id).
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
import type { ShardPosition } from './shard-store.ts'
import { SHARD_COUNT } from './shards.ts'

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

/**
 * Where a search stands in one shard: `'start'` before its first match,
 * its last (rank, id) returned, or `'done'` once it has no more.
 */
export type ShardCursor = 'start' | 'done' | ShardPosition

/**
 * A search cursor: one entry per shard (`SHARD_COUNT`), each `true` (start),
 * `false` (done) or `[rank, id]`.
 *
 * @example
 * ```ts
 * encodeSearchCursor(['done', { rank: -1.5, id: 7 }, 'start', …]) // 'oWFwiPSC…'
 * ```
 */
export function encodeSearchCursor(shards: readonly ShardCursor[]): string {
  return encodeCursor({
    p: shards.map((s) => (s === 'start' ? true : s === 'done' ? false : [s.rank, s.id])),
  })
}

/** A search cursor's entry for every shard; throws `invalid_cursor` for anything this edge did not give out. */
export function decodeSearchCursor(text: string | undefined): ShardCursor[] | null {
  if (text === undefined) return null
  const { p, ...rest } = decodeCursor(text)
  if (!Array.isArray(p) || p.length !== SHARD_COUNT || Object.keys(rest).length > 0) invalidCursor()
  return p.map((entry: unknown): ShardCursor => {
    if (entry === true) return 'start'
    if (entry === false) return 'done'
    if (!Array.isArray(entry) || entry.length !== 2) invalidCursor()
    const [rank, id] = entry as unknown[]
    if (typeof rank !== 'number' || !Number.isFinite(rank) || !Number.isSafeInteger(id) || (id as number) < 1) {
      invalidCursor()
    }
    return { rank, id: id as number }
  })
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
