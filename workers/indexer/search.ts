/**
 * `GET /v1/search?q=&kind=&limit=&cursor=`: full-text search over public
 * records. Each shard ranks its own matches and answers the best of them
 * after its position in the cursor, in its (rank, id) order
 * (`ShardStore.search`); the edge merges the shards' answers by (rank,
 * shard, id) and keeps the page's best `limit`. A shard is first asked for
 * about twice its share of a page (`firstAsk`), as keys spread evenly over
 * the shards by hash; only a shard that may hold more hits ranked above the
 * page's last (it sent all it was asked for, and its last ranks above the
 * page's last) is asked again, for `limit + 1` more, which settles the page
 * exactly. So a page moves about `2 × limit` records from the shards, not
 * `SHARD_COUNT × (limit + 1)`, and a shard the cursor marks as done is not
 * asked again.
 *
 * The cursor carries each shard's position (its last match on a page so
 * far), so a shard's next page is the next part of its own listing, never
 * a re-scan of what came before. A one-word search ranks by weights fixed
 * per record, the same on every shard, so the merge is exact and a match
 * present and unchanged throughout appears exactly once even while other
 * records are written; a search of more words ranks by each shard's bm25,
 * whose term statistics the shards share only approximately (keys are
 * spread over shards by hash) and which moves when the shard's index
 * changes. Shards send their hits' records along, which saves a round
 * trip to fetch the page's records.
 *
 * A one-word search's term (what the shards' tokenizer makes of the word) is
 * asked of one shard, the word's own by hash, and then handed to every
 * shard, so a word is tokenized once, not once per shard; the isolate
 * remembers it, so a word searched again is not tokenized at all.
 */
import { decodeRecord, ErrorCode, parseRecordKey, recordToJson, VivimError } from '@vivim/shared'
import { Hono } from 'hono'
import type { AppEnv } from '../http/types.ts'
import { decodeSearchCursor, encodeSearchCursor, kindFilter, pageLimit, type ShardCursor } from './page.ts'
import { ftsMatch, searchWords } from './search-text.ts'
import type { ShardHit } from './shard-store.ts'
import { allShards, SHARD_COUNT, shardOf } from './shards.ts'

export const search = new Hono<AppEnv>()

interface Candidate {
  readonly hit: ShardHit
  readonly shard: number
}

/** Words whose term this isolate remembers; the tokenizer is fixed by the code, so an entry never goes stale. */
const TERM_CACHE_SIZE = 4_096
const termOfWord = new Map<string, string | null>()

type Shard = ReturnType<typeof allShards>[number]

/** The one term the shards make of `word` (null: none or several), asked of one shard the first time. */
async function termOf(shards: readonly Shard[], word: string): Promise<string | null> {
  const known = termOfWord.get(word)
  if (known !== undefined) return known
  const term = await (shards[shardOf(word)] as Shard).termOf(word)
  if (termOfWord.size >= TERM_CACHE_SIZE) termOfWord.clear()
  termOfWord.set(word, term)
  return term
}

const byRank = (a: Candidate, b: Candidate) => a.hit.rank - b.hit.rank || a.shard - b.shard || a.hit.id - b.hit.id

/** How many hits a shard is first asked for: about twice its share of a page, since keys spread over shards by hash. */
function firstAsk(limit: number): number {
  return Math.min(limit + 1, 2 * Math.ceil(limit / SHARD_COUNT) + 1)
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
  const before: ShardCursor[] = decodeSearchCursor(c.req.query('cursor')) ?? Array(SHARD_COUNT).fill('start')
  const shards = allShards(c.env)
  const live = before.some((position) => position !== 'done')
  const term = words.length === 1 && live ? await termOf(shards, words[0] as string) : undefined
  const ask = async (i: number, after: ShardCursor, count: number): Promise<Answer> => {
    if (after === 'done') return { hits: [], exhausted: true }
    const query = { words, match, term, kind, after: after === 'start' ? null : after, limit: count }
    const hits = await (shards[i] as Shard).search(query)
    return { hits, exhausted: hits.length < count }
  }
  const first = firstAsk(limit)
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
    cursor: after.every((position) => position === 'done') ? null : encodeSearchCursor(after),
  })
})
