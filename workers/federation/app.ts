/**
 * Federation: the instance descriptor (`/.well-known/vivim`), discovery, and
 * signed server-to-server delivery through per-destination outboxes.
 */
import { Hono } from 'hono'
import type { AppEnv } from '../http/types.ts'

export const federation = new Hono<AppEnv>()
