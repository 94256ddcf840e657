/**
 * The indexer: signed content records in KV (`/v1/records`), providers
 * (`/v1/providers`), search (`/v1/search`) and the edge cache, over the
 * `IndexShard` Durable Objects that decide every write (`index-shard.ts`).
 * While the index grows, each isolate's first indexer request starts the
 * old shards' moves (`shards.ts`).
 */
import { logLine } from '@vivim/shared'
import { Hono, type MiddlewareHandler } from 'hono'
import type { AppEnv } from '../http/types.ts'
import { providers } from './providers.ts'
import { records } from './records.ts'
import { search } from './search.ts'
import { startMoves } from './shards.ts'

export const indexer = new Hono<AppEnv>()

const moving: MiddlewareHandler<AppEnv> = async (c, next) => {
  // A setting that fails here fails the request itself, with its reason, in the route.
  const started = startMoves(c.env).catch((error: unknown) => logLine('error', 'index move not started', { error }))
  c.executionCtx.waitUntil(started)
  await next()
}
for (const path of ['/v1/records', '/v1/records/*', '/v1/providers/*', '/v1/search']) indexer.use(path, moving)

indexer.route('/', records)
indexer.route('/', providers)
indexer.route('/', search)
