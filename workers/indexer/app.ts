/**
 * The indexer: signed content records in KV (`/v1/records`), providers
 * (`/v1/providers`), search (`/v1/search`) and the edge cache, over the
 * `IndexShard` Durable Objects that decide every write (`index-shard.ts`).
 */
import { Hono } from 'hono'
import type { AppEnv } from '../http/types.ts'
import { providers } from './providers.ts'
import { records } from './records.ts'
import { search } from './search.ts'

export const indexer = new Hono<AppEnv>()

indexer.route('/', records)
indexer.route('/', providers)
indexer.route('/', search)
