/**
 * `GET /v1/search?q=&kind=&limit=&cursor=`: full-text search over public
 * records. A page reads one window of shards: shards 0 to 15, then 16 to
 * 31, and so on (`SEARCH_WINDOW`; with 16 shards or fewer, as by default,
 * the one window is every shard). Each shard of the window ranks its own
 * matches and answers the best of them after its position in the cursor,
 * in its (rank, id) order (`ShardStore.search`); the edge merges the
 * answers by (rank, shard, id) and keeps the page's best `limit`. A shard
 * is first asked for about twice its share of a page (`firstAsk`), as keys
 * spread evenly over the shards by hash; only a shard that may hold more
 * hits ranked above the page's last (it sent all it was asked for, and its
 * last ranks above the page's last) is asked again, for `limit + 1` more,
 * which settles the page exactly. So a page moves about `2 × limit`
 * records from the shards, and a shard the cursor marks as done is not
 * asked again.
 *
 * The bound: a page makes at most `2 × SEARCH_WINDOW + 1` shard calls
 * (a first ask and at most one more of each shard of its window, and the
 * word's term of one of them) and reaches at most `SEARCH_WINDOW` shards,
 * whatever the shard count. Once every shard of a window is done, the
 * cursor names the next window; a page ends with its window, so with more
 * than `SEARCH_WINDOW` shards a page may hold fewer than `limit` results
 * (even none) and still have a cursor. The listing is in rank order within
 * each window, and the windows follow one another.
 *
 * The cursor carries each of the window's shards' position (its last match
 * on a page so far), so a shard's next page is the next part of its own
 * listing, never a re-scan of what came before. A one-word search ranks by
 * weights fixed per record, the same on every shard, so the merge is exact
 * and a match present and unchanged throughout appears exactly once even
 * while other records are written; a search of more words ranks by each
 * shard's bm25, whose term statistics the shards share only approximately
 * (keys are spread over shards by hash) and which moves when the shard's
 * index changes. Shards send their hits' records along, which saves a
 * round trip to fetch the page's records.
 *
 * A one-word search's term (what the shards' tokenizer makes of the word) is
 * asked of one shard of the window, the word's own by hash, and then handed
 * to every shard of the window, so a word is tokenized once, not once per
 * shard; the isolate remembers it, so a word searched again is not
 * tokenized at all.
 */
import { decodeRecord, ErrorCode, parseRecordKey, recordToJson, VivimError } from '@vivim/shared'
import { Hono } from 'hono'
import type { AppEnv } from '../http/types.ts'
import {
  decodeSearchCursor,
  encodeSearchCursor,
  kindFilter,
  pageLimit,
  SEARCH_WINDOW,
  type ShardCursor,
  windowSize,
} from './page.ts'
import { ftsMatch, searchWords } from './search-text.ts'
import type { ShardHit } from './shard-store.ts'
import { shardLayout, shardOf, shardRange } from './shards.ts'

export const search = new Hono<AppEnv>()

interface Candidate {
  readonly hit: ShardHit
  readonly shard: number
}

/** Words whose term this isolate remembers; the tokenizer is fixed by the code, so an entry never goes stale. */
const TERM_CACHE_SIZE = 4_096
const termOfWord = new Map<string, string | null>()

type Shard = ReturnType<typeof shardRange>[number]

/** The one term the shards make of `word` (null: none or several), asked of one shard the first time. */
async function termOf(shards: readonly Shard[], word: string): Promise<string | null> {
  const known = termOfWord.get(word)
  if (known !== undefined) return known
  const term = await (shards[shardOf(word, shards.length)] as Shard).termOf(word)
  if (termOfWord.size >= TERM_CACHE_SIZE) termOfWord.clear()
  termOfWord.set(word, term)
  return term
}

const byRank = (a: Candidate, b: Candidate) => a.hit.rank - b.hit.rank || a.shard - b.shard || a.hit.id - b.hit.id

/** How many hits each of `shards` shards is first asked for: about twice its share of a page, as keys spread by hash. */
function firstAsk(limit: number, shards: number): number {
  return Math.min(limit + 1, 2 * Math.ceil(limit / shards) + 1)
}

/** Each shard's hits so far, in its order, and whether it has no more after them. */
interface Answer {
  hits: ShardHit[]
  exhausted: boolean
}

/** The best `limit` of every shard's hits so far. */
function merge(answers: readonly Answer[], limit: number): Candidate[] {
  return answers
    .flatMap((answer, shard) => answer.hits.map((hit) => ({ hit, shard })))
    .sort(byRank)
    .slice(0, limit)
}

search.get('/v1/search', async (c) => {
  const q = c.req.query('q')
  if (q === undefined) throw new VivimError(ErrorCode.InvalidQuery, 'q is required')
  const words = searchWords(q)
  const match = ftsMatch(words)
  const kind = kindFilter(c.req.query('kind'))
  const limit = pageLimit(c.req.query('limit'))
  const shardCount = shardLayout(c.env).count
  const cursor = decodeSearchCursor(c.req.query('cursor'), shardCount)
  const window = cursor?.window ?? 0
  const before: readonly ShardCursor[] = cursor?.shards ?? Array(windowSize(0, shardCount)).fill('start')
  const shards = shardRange(c.env, window, before.length)
  const live = before.some((position) => position !== 'done')
  const term = words.length === 1 && live ? await termOf(shards, words[0] as string) : undefined
  const ask = async (i: number, after: ShardCursor, count: number): Promise<Answer> => {
    if (after === 'done') return { hits: [], exhausted: true }
    const query = { words, match, term, kind, after: after === 'start' ? null : after, limit: count }
    const hits = await (shards[i] as Shard).search(query)
    return { hits, exhausted: hits.length < count }
  }
  const first = firstAsk(limit, shards.length)
  const answers = await Promise.all(before.map((position, i) => ask(i, position, first)))
  let page = merge(answers, limit)
  // A shard that may have more hits than it sent, the last of which ranks above the page's last, is asked again.
  const cutoff = page.length === limit ? page[limit - 1] : undefined
  const again = answers.flatMap((answer, shard) => {
    const last = answer.hits.at(-1)
    if (answer.exhausted || !last) return []
    return cutoff === undefined || byRank({ hit: last, shard }, cutoff) < 0 ? [shard] : []
  })
  if (again.length > 0) {
    await Promise.all(
      again.map(async (i) => {
        const answer = answers[i] as Answer
        const last = answer.hits.at(-1) as ShardHit
        const more = await ask(i, { rank: last.rank, id: last.id }, limit + 1)
        answers[i] = { hits: [...answer.hits, ...more.hits], exhausted: more.exhausted }
      }),
    )
    page = merge(answers, limit)
  }
  // Each shard's hits on the page are a prefix of its answer, in its own order: its new position is the last of them.
  const after = before.map((position, i): ShardCursor => {
    const answer = answers[i] as Answer
    const used = page.filter((p) => p.shard === i).length
    if (position === 'done' || (answer.exhausted && used === answer.hits.length)) return 'done'
    const last = answer.hits[used - 1]
    return last ? { rank: last.rank, id: last.id } : position
  })
  return c.json({
    results: page.map(({ hit }) => {
      const record = decodeRecord(hit.bytes)
      return {
        key: hit.key,
        kind: parseRecordKey(hit.key).kind,
        author: record.author,
        timestamp: record.timestamp,
        score: hit.score,
        record: recordToJson(record),
      }
    }),
    cursor: nextCursor(after, window, shardCount),
  })
})

/** The next page's cursor: this window's positions, or once all of its shards are done, the next window's start. */
function nextCursor(after: readonly ShardCursor[], window: number, count: number): string | null {
  if (!after.every((position) => position === 'done')) return encodeSearchCursor(after, window)
  const next = window + SEARCH_WINDOW
  return next < count ? encodeSearchCursor(Array(windowSize(next, count)).fill('start'), next) : null
}
