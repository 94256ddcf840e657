/**
 * `GET /v1/search?q=&kind=&limit=&cursor=`: full-text search over public
 * records. Every shard answers its best matches after the cursor, in
 * (bm25, key) order; the edge merges them and keeps the page's best. The
 * page's best `limit` overall are always among the shards' best `limit`
 * each, so one round trip per shard per page is enough. Scores are each
 * shard's own bm25; keys are spread over shards by hash, so the shards'
 * term statistics, and so their scores, agree closely. Shards send their
 * hits' records along, which saves a second round trip at the cost of
 * moving up to `SHARD_COUNT × (limit + 1)` records for a page of `limit`.
 */
import { decodeRecord, ErrorCode, parseRecordKey, recordToJson, VivimError } from '@vivim/shared'
import { Hono } from 'hono'
import type { AppEnv } from '../http/types.ts'
import { decodeSearchCursor, encodeSearchCursor, kindFilter, pageLimit } from './page.ts'
import { ftsMatch } from './search-text.ts'
import type { ShardHit } from './shard-store.ts'
import { allShards } from './shards.ts'

export const search = new Hono<AppEnv>()

const byRank = (a: ShardHit, b: ShardHit) => a.score - b.score || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)

search.get('/v1/search', async (c) => {
  const q = c.req.query('q')
  if (q === undefined) throw new VivimError(ErrorCode.InvalidQuery, 'q is required')
  const match = ftsMatch(q)
  const kind = kindFilter(c.req.query('kind'))
  const limit = pageLimit(c.req.query('limit'))
  const after = decodeSearchCursor(c.req.query('cursor'))
  const answers = await Promise.all(
    allShards(c.env).map((shard) => shard.search({ match, kind, after, limit: limit + 1 })),
  )
  const hits = answers.flat().sort(byRank)
  const page = hits.slice(0, limit)
  const last = page.at(-1)
  return c.json({
    results: page.map((hit) => {
      const record = decodeRecord(hit.bytes)
      return {
        key: hit.key,
        kind: parseRecordKey(hit.key).kind,
        author: record.author,
        timestamp: record.timestamp,
        score: -hit.score,
        record: recordToJson(record),
      }
    }),
    cursor: hits.length > limit && last ? encodeSearchCursor({ score: last.score, key: last.key }) : null,
  })
})
