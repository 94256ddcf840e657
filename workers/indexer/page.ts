/**
 * Pagination for search and discovery: the `limit`, `kind` and `cursor`
 * query parameters. A cursor is opaque to clients (unpadded base64url of a
 * canonical CBOR map) and names where the page before ended, so the next
 * page starts strictly after it in the listing's total order: a listing's
 * cursor names its last key; a search's, the window of shards it reads and
 * each of their last (rank, id).
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

/** Most shards one search page reads: the shards of one window (`search.ts`). */
export const SEARCH_WINDOW = 16

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

/** Where a search stands: the first shard of the window it reads, and each of the window's shards. */
export interface SearchCursor {
  readonly window: number
  readonly shards: readonly ShardCursor[]
}

/** How many shards the window that starts at shard `start` holds, among `count`. */
export function windowSize(start: number, count: number): number {
  return Math.min(SEARCH_WINDOW, count - start)
}

/**
 * A search cursor: `p`, one entry per shard of the window, each `true`
 * (start), `false` (done) or `[rank, id]`; and `w`, the window's first
 * shard, left out when it is 0 (always, with at most `SEARCH_WINDOW` shards).
 *
 * @example
 * ```ts
 * encodeSearchCursor(['done', { rank: -1.5, id: 7 }, 'start', …]) // 'oWFwiPSC…'
 * encodeSearchCursor(Array(16).fill('start'), 16) // the second window of a 32-shard index
 * ```
 */
export function encodeSearchCursor(shards: readonly ShardCursor[], window = 0): string {
  const p = shards.map((s) => (s === 'start' ? true : s === 'done' ? false : [s.rank, s.id]))
  return encodeCursor(window === 0 ? { p } : { p, w: window })
}

/**
 * A search cursor among `count` shards; throws `invalid_cursor` for anything
 * this edge did not give out, or gave out for another shard count.
 */
export function decodeSearchCursor(text: string | undefined, count = SHARD_COUNT): SearchCursor | null {
  if (text === undefined) return null
  const { p, w, ...rest } = decodeCursor(text)
  const window = w === undefined ? 0 : laterWindow(w, count)
  if (Object.keys(rest).length > 0 || !Array.isArray(p) || p.length !== windowSize(window, count)) invalidCursor()
  const shards = p.map((entry: unknown): ShardCursor => {
    if (entry === true) return 'start'
    if (entry === false) return 'done'
    if (!Array.isArray(entry) || entry.length !== 2) invalidCursor()
    const [rank, id] = entry as unknown[]
    if (typeof rank !== 'number' || !Number.isFinite(rank) || !Number.isSafeInteger(id) || (id as number) < 1) {
      invalidCursor()
    }
    return { rank, id: id as number }
  })
  return { window, shards }
}

/** A cursor's `w`: the first shard of a window after the first, among `count` shards. */
function laterWindow(w: unknown, count: number): number {
  if (!Number.isSafeInteger(w)) invalidCursor()
  const start = w as number
  if (start <= 0 || start % SEARCH_WINDOW !== 0 || start >= count) invalidCursor()
  return start
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
