/**
 * What search sees of a record, and how a user's text becomes an FTS5 query.
 *
 * Only public, live records whose value is a UTF-8 JSON object are indexed,
 * and only the string fields that name or describe the thing (a profile's
 * `displayName` and `bio`, a circle's `name` and `description`, a
 * conversation's `title`…), so a search never surfaces private fields that
 * happen to sit in a public record. Settings are never indexed.
 *
 * A user's text is never handed to FTS5 as syntax: it is cut into words
 * (runs of letters, marks and digits) and each word is quoted, so operators
 * (`OR`, `NEAR`, `*`, `^`, `-`, `:`, parentheses, column names) are searched
 * for as plain words, or dropped as punctuation, and can never error or
 * reach another column.
 */
import { type ContentRecord, ErrorCode, Limits, parseRecordKey, type RecordKind, VivimError } from '@vivim/shared'

export interface IndexText {
  /** Names and titles (weighted higher). */
  readonly title: string
  /** Descriptions and bodies. */
  readonly body: string
}

const FIELDS: Readonly<Record<RecordKind, { title: readonly string[]; body: readonly string[] }>> = {
  profile: { title: ['displayName', 'name'], body: ['bio'] },
  circle: { title: ['name'], body: ['description'] },
  conversation: { title: ['title'], body: ['topic'] },
  post: { title: ['title'], body: ['text'] },
  document: { title: ['title'], body: ['description'] },
  settings: { title: [], body: [] },
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false })

/**
 * The text to index for `record`, or null when it is not searchable.
 *
 * @example
 * ```ts
 * indexText(circleRecord) // { title: 'Book club', body: 'Monthly reads' }
 * ```
 */
export function indexText(record: ContentRecord): IndexText | null {
  if (!record.public || record.value.length === 0) return null
  const fields = FIELDS[parseRecordKey(record.key).kind]
  let value: unknown
  try {
    value = JSON.parse(utf8.decode(record.value))
  } catch {
    return null
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null
  const object = value as Record<string, unknown>
  const pick = (names: readonly string[]) =>
    names
      .map((name) => object[name])
      .filter((v): v is string => typeof v === 'string')
      .join('\n')
  const text = { title: pick(fields.title), body: pick(fields.body) }
  return text.title.trim() || text.body.trim() ? text : null
}

const WORD = /[\p{L}\p{M}\p{N}]+/gu

/**
 * Cuts a user's search text into its distinct words; throws `invalid_query`
 * if the text is too long, has no words, or too many.
 *
 * @example
 * ```ts
 * searchWords('book OR club*') // ['book', 'OR', 'club']
 * ```
 */
export function searchWords(q: string): string[] {
  if (new TextEncoder().encode(q).length > Limits.maxSearchQueryBytes) {
    throw new VivimError(ErrorCode.InvalidQuery, `q is longer than ${Limits.maxSearchQueryBytes} bytes`)
  }
  const words = [...new Set(q.normalize('NFKC').match(WORD) ?? [])]
  if (words.length === 0) throw new VivimError(ErrorCode.InvalidQuery, 'q has no words to search for')
  if (words.length > Limits.maxSearchTerms) {
    throw new VivimError(ErrorCode.InvalidQuery, `q has more than ${Limits.maxSearchTerms} words`)
  }
  return words
}

/**
 * The FTS5 query that matches records holding every one of `words`, each
 * quoted.
 *
 * @example
 * ```ts
 * ftsMatch(searchWords('book OR club*')) // '"book" "OR" "club"'
 * ```
 */
export function ftsMatch(words: readonly string[]): string {
  return words.map((w) => `"${w.replaceAll('"', '""')}"`).join(' ')
}

/** How often a term occurs in a record's title and body, and how many terms the record's text has in all. */
export interface TermCounts {
  readonly title: number
  readonly body: number
  readonly length: number
}

/** bm25's term-frequency saturation. */
const K1 = 1.2
/** bm25's length normalisation. */
const B = 0.75
/** The record length, in terms, that the length normalisation takes as usual (a fixed figure, not a shard's average). */
const USUAL_LENGTH = 32

/**
 * How well a term describes a record, for searches of one word: bm25's
 * term part, with a title occurrence counting twice and the usual length
 * fixed at `USUAL_LENGTH`, so it depends on this record alone and never
 * changes while the record does not (bm25's idf is the same for every
 * record of a one-word search, so it does not change the order).
 *
 * @example
 * ```ts
 * termWeight({ title: 1, body: 0, length: 4 }) > termWeight({ title: 0, body: 1, length: 4 }) // true
 * ```
 */
export function termWeight(counts: TermCounts): number {
  const tf = 2 * counts.title + counts.body
  return (tf * (K1 + 1)) / (tf + K1 * (1 - B + (B * counts.length) / USUAL_LENGTH))
}
