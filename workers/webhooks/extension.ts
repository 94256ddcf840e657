/**
 * Webhooks as an edge extension (`../extensions/events.ts`): a document
 * flush or a topic message of a resource with subscriptions goes to the
 * resource's `WebhookResource`; one without costs nothing but a look at the
 * isolate's memo (`memo.ts`). Both hooks are hand-overs: they resolve once
 * the resource object holds the change (a topic message: once every
 * subscription's queue holds its delivery), and a rejection leaves it in
 * the room's journal, which hands it over again.
 *
 * Registered in `../index.ts`.
 *
 * @example
 * ```ts
 * registerExtensions(bridgeExtension, federationExtension, webhooksExtension)
 * ```
 */
import { encodeEnvelope } from '@vivim/shared'
import type { EdgeExtension } from '../extensions/events.ts'
import { hasWebhooks, reportChange } from './memo.ts'

export const webhooksExtension: EdgeExtension = {
  name: 'webhooks',
  docFlushed: async (env, { docId, origin }) => {
    if (docId === null) return
    const resource = `doc:${docId}`
    if (!(await hasWebhooks(env, resource))) return
    await reportChange(env, resource, origin ?? null)
  },
  topicMessageStored: async (env, { envelope }) => {
    const resource = `topic:${envelope.topic}`
    if (!(await hasWebhooks(env, resource))) return
    // Canonical CBOR: the same bytes the author signed the fields of, whoever encodes them.
    await env.WEBHOOK_RESOURCE.getByName(resource).message(encodeEnvelope(envelope))
  },
}
