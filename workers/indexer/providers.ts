/**
 * Provider routes: `POST /v1/providers/<key>` announces that a peer holds
 * the content of a record key, until an expiry of at most 24 hours;
 * `GET /v1/providers/<key>` lists the live announcements. Unlike a record,
 * an announcement is not signed, so announcing takes a credential that may
 * write (`http/access.ts`); listing is public, like the records themselves.
 * While the index grows, a key's providers are read from its new shard and
 * the old one it may still be in (`shards.ts`).
 */
import { ErrorCode, Limits, type ProviderEntry, parseProviderAnnouncement, VivimError } from '@vivim/shared'
import { Hono } from 'hono'
import { edgeEvents } from '../extensions/events.ts'
import { authorize } from '../http/access.ts'
import type { AppEnv } from '../http/types.ts'
import { JSON_TYPE, mediaType, parseJson, pathKey } from './request-input.ts'
import { shardFor, shardsOf } from './shards.ts'

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

/** One list from the lists of a key's shards (two while keys move): each peer's latest expiry, the longest-lived first. */
function merged(lists: readonly (readonly ProviderEntry[])[]): ProviderEntry[] {
  if (lists.length === 1) return [...(lists[0] as ProviderEntry[])]
  const byPeer = new Map<string, ProviderEntry>()
  for (const entry of lists.flat()) {
    if ((byPeer.get(entry.peer)?.expiresAt ?? 0) < entry.expiresAt) byPeer.set(entry.peer, entry)
  }
  return [...byPeer.values()]
    .sort((a, b) => b.expiresAt - a.expiresAt || (a.peer < b.peer ? -1 : 1))
    .slice(0, Limits.maxProvidersPerKey)
}

providers.get('/v1/providers/:key{.+}', async (c) => {
  const key = pathKey(c)
  const lists = await Promise.all(shardsOf(c.env, key).map((shard) => shard.providers(key)))
  return c.json({ key, providers: merged(lists) })
})
