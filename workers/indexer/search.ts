/**
 * `GET /v1/search?q=&kind=&limit=&cursor=`: full-text search over public
 * records. Each shard ranks its own matches and answers at most `limit + 1`
 * of them after its position in the cursor, in its (rank, id) order
 * (`ShardStore.search`); the edge merges the shards' answers by (rank,
 * shard, id) and keeps the page's best `limit`. Those are always among the
 * shards' best `limit` each, so one round trip per shard per page is
 * enough, and a shard the cursor marks as done is not asked again.
 *
 * The cursor carries each shard's position (its last match on a page so
 * far), so a shard's next page is the next part of its own listing, never
 * a re-scan of what came before. A one-word search ranks by weights fixed
 * per record, the same on every shard, so the merge is exact and a match
 * present and unchanged throughout appears exactly once even while other
 * records are written; a search of more words ranks by each shard's bm25,
 * whose term statistics the shards share only approximately (keys are
 * spread over shards by hash) and which moves when the shard's index
 * changes. Shards send their hits' records along, which saves a second
 * round trip at the cost of moving up to `SHARD_COUNT × (limit + 1)`
 * records for a page of `limit`.
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
  const answers = await Promise.all(
    before.map((position, i) =>
      position === 'done'
        ? []
        : (shards[i] as Shard).search({
            words,
            match,
            term,
            kind,
            after: position === 'start' ? null : position,
            limit: limit + 1,
          }),
    ),
  )
  const page = answers
    .flatMap((hits, shard) => hits.map((hit) => ({ hit, shard })))
    .sort(byRank)
    .slice(0, limit)
  // Each shard's hits on the page are a prefix of its answer, in its own order: its new position is the last of them.
  const after = before.map((position, i): ShardCursor => {
    const answer = answers[i] as ShardHit[]
    const used = page.filter((p) => p.shard === i).length
    if (position === 'done' || (used === answer.length && answer.length <= limit)) return 'done'
    const last = answer[used - 1]
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
