/**
 * The indexer: signed content records in KV (`/v1/records`), providers
 * (`/v1/providers`), search (`/v1/search`) and the edge cache.
 */
import { Hono } from 'hono'
import type { AppEnv } from '../http/types.ts'

export const indexer = new Hono<AppEnv>()
