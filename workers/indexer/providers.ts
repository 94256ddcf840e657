/**
 * Provider routes: `POST /v1/providers/<key>` announces that a peer holds
 * the content of a record key, until an expiry of at most 24 hours;
 * `GET /v1/providers/<key>` lists the live announcements. Unlike a record,
 * an announcement is not signed, so announcing takes a credential that may
 * write (`http/access.ts`); listing is public, like the records themselves.
 */
import { ErrorCode, parseProviderAnnouncement, VivimError } from '@vivim/shared'
import { Hono } from 'hono'
import { edgeEvents } from '../extensions/events.ts'
import { authorize } from '../http/access.ts'
import type { AppEnv } from '../http/types.ts'
import { JSON_TYPE, mediaType, parseJson, pathKey } from './request-input.ts'
import { shardFor } from './shards.ts'

export const providers = new Hono<AppEnv>()

providers.post('/v1/providers/:key{.+}', async (c) => {
  const key = pathKey(c)
  const access = await authorize(c.req.raw, c.env, `providers:${key}`)
  if (!access.canWrite) throw new VivimError(ErrorCode.Forbidden, 'this credential may not announce providers')
  if (mediaType(c) !== JSON_TYPE) {
    throw new VivimError(ErrorCode.UnsupportedMediaType, `a provider announcement is sent as ${JSON_TYPE}`)
  }
  const parsed = parseProviderAnnouncement(parseJson(new Uint8Array(await c.req.arrayBuffer())))
  const entry = await shardFor(c.env, key).announce(key, parsed)
  c.executionCtx.waitUntil(edgeEvents.providerAnnounced(c.env, { key, announcement: parsed }))
  return c.json({ key, ...entry }, 201)
})

providers.get('/v1/providers/:key{.+}', async (c) => {
  const key = pathKey(c)
  return c.json({ key, providers: await shardFor(c.env, key).providers(key) })
})
