/**
 * Webhooks as an edge extension (`../extensions/events.ts`), registered in
 * `../index.ts`: a document flush or a topic message of a resource with
 * subscriptions goes to the resource's `WebhookResource`. Both hooks are
 * hand-overs: they resolve once the resource object holds the change (a
 * topic message: once every subscription's queue holds its delivery), and a
 * rejection leaves it in the room's journal, which hands it over again.
 *
 * A resource without webhooks costs no Durable Object call: each isolate
 * remembers whether a resource has subscriptions, asked of its
 * `WebhookResource` at most once every `MEMO_TTL_MS` (concurrent asks share
 * one call), for at most `MAX_ENTRIES` resources (the oldest forgotten
 * first). A subscription made on another isolate is seen here within
 * `MEMO_TTL_MS`; the resource object checks each new document subscription
 * once that long after its creation, so flushes missed meanwhile still
 * reach it (a topic message in that window is not delivered:
 * `docs/protocol.md`, Webhooks). The isolate that creates or deletes a
 * subscription forgets at once.
 *
 * Flushes of a subscribed document are reported one call at a time per
 * resource: while one is out, the next waits and carries every flush that
 * came meanwhile, so a busy room costs its resource object at most one call
 * in flight and one waiting.
 *
 * @example
 * ```ts
 * registerExtensions(bridgeExtension, federationExtension, webhooksExtension)
 * ```
 */

import { encodeEnvelope } from '@vivim/shared'
import type { EdgeExtension } from '../extensions/events.ts'
import { resourceWebhooks } from './resource-webhooks.ts'

/** How long an isolate trusts what it was told about a resource. */
export const MEMO_TTL_MS = 10_000
const MAX_ENTRIES = 10_000

const memo = new Map<string, { subscribed: boolean; until: number }>()
const asking = new Map<string, Promise<boolean>>()

/** Whether `resource` has webhooks, as its object said at most `MEMO_TTL_MS` ago. */
export function hasWebhooks(env: Env, resource: string): Promise<boolean> {
  const known = memo.get(resource)
  if (known && known.until > Date.now()) return Promise.resolve(known.subscribed)
  const pending = asking.get(resource)
  if (pending) return pending
  const ask = resourceWebhooks(env, resource)
    .subscribed()
    .then((subscribed) => {
      memo.delete(resource)
      if (memo.size >= MAX_ENTRIES) memo.delete(memo.keys().next().value as string)
      memo.set(resource, { subscribed, until: Date.now() + MEMO_TTL_MS })
      return subscribed
    })
    .finally(() => asking.delete(resource))
  asking.set(resource, ask)
  return ask
}

/** Drops what this isolate knows of `resource` (a subscription was made or removed here). */
export function forgetWebhooks(resource: string): void {
  memo.delete(resource)
}

const running = new Map<string, Promise<void>>()
const waiting = new Map<string, { peers: Set<string>; writers: Set<string>; done: Promise<void> }>()

/**
 * Tells `resource`'s object that the document changed (from `peer`, a federated instance, and by
 * `writers`, DIDs); resolves once it holds that (rejects if it could not).
 */
export function reportChange(
  env: Env,
  resource: string,
  peer: string | null,
  writers: readonly string[] = [],
): Promise<void> {
  const queued = waiting.get(resource)
  if (queued) {
    if (peer !== null) queued.peers.add(peer)
    for (const did of writers) queued.writers.add(did)
    return queued.done
  }
  const current = running.get(resource)
  if (!current) return start(env, resource, peer === null ? [] : [peer], [...writers])
  const peers = new Set(peer === null ? [] : [peer])
  const waitingWriters = new Set(writers)
  const done = current
    .catch(() => {})
    .then(() => {
      waiting.delete(resource)
      return start(env, resource, [...peers], [...waitingWriters])
    })
  waiting.set(resource, { peers, writers: waitingWriters, done })
  return done
}

function start(env: Env, resource: string, peers: string[], writers: string[]): Promise<void> {
  const call = resourceWebhooks(env, resource)
    .changed(peers, writers)
    .finally(() => {
      if (running.get(resource) === call) running.delete(resource)
    })
  running.set(resource, call)
  return call
}

export const webhooksExtension: EdgeExtension = {
  name: 'webhooks',
  docFlushed: async (env, { docId, origin, writers }) => {
    if (docId === null) return
    const resource = `doc:${docId}`
    if (!(await hasWebhooks(env, resource))) return
    await reportChange(env, resource, origin ?? null, writers ?? [])
  },
  topicMessageStored: async (env, { envelope }) => {
    const resource = `topic:${envelope.topic}`
    if (!(await hasWebhooks(env, resource))) return
    // Canonical CBOR: the same bytes the author signed the fields of, whoever encodes them.
    await resourceWebhooks(env, resource).message(encodeEnvelope(envelope))
  },
}
