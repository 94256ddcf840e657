/**
 * Webhook routes (`docs/protocol.md`, Webhooks), each under the resource's
 * capabilities: only its owner, or a chain granting `admin`, subscribes it,
 * lists its webhooks or their deliveries, and deletes one.
 *
 *   POST   /v1/webhooks                  { resource, url, event?, debounceMs?, maxWaitMs? } → 201 { webhook }
 *   GET    /v1/webhooks?resource=<res>   → { webhooks: [webhook with status] }
 *   GET    /v1/webhooks/:id              → { webhook }
 *   GET    /v1/webhooks/:id/deliveries   → { webhook: id, deliveries: [...] }, newest first
 *   DELETE /v1/webhooks/:id              → 204
 *
 * A subscription is counted at its owner (`WebhookOwner`), kept with its
 * deliveries in its own queue (`WebhookQueue`), and listed at its resource
 * (`WebhookResource`), in that order, so events only reach a queue that
 * exists; a failure on the way undoes what was done.
 */

import { ErrorCode, unwrap, VivimError } from '@vivim/shared'
import { Hono } from 'hono'
import { federationConfig } from '../federation/config.ts'
import type { AppEnv } from '../http/types.ts'
import { queueName } from './delivery-queue.ts'
import { forgetWebhooks } from './extension.ts'
import { ownerName } from './owner-quota.ts'
import { resourceWebhooks } from './resource-webhooks.ts'
import { ownerOfResource, webhookView } from './route-access.ts'
import { isSubscriptionId, newId, parseCreate, parseResource, type SubscriptionConfig } from './subscription.ts'
import { checkTarget } from './target-url.ts'

export const webhooks = new Hono<AppEnv>()

webhooks.post('/v1/webhooks', async (c) => {
  const init = parseCreate(await c.req.json().catch(() => null))
  const owner = await ownerOfResource(c.req.raw, c.env, init.resource)
  const edge = new URL(c.req.url).host
  const url = checkTarget(init.url, c.env, edge)
  const id = newId()
  const config: SubscriptionConfig = {
    ...init,
    url: url.href,
    id,
    owner,
    origin: federationConfig(c.env)?.domain ?? edge,
    createdAt: Date.now(),
  }
  const quota = c.env.WEBHOOK_OWNER.getByName(ownerName(owner))
  const queue = c.env.WEBHOOK_QUEUE.getByName(queueName(id))
  unwrap(await quota.reserve(id, init.resource))
  try {
    await queue.configure(config)
    unwrap(await resourceWebhooks(c.env, init.resource).add(init.resource, { id, ...init }))
  } catch (error) {
    await Promise.allSettled([queue.remove(), quota.release(id)])
    throw error
  }
  forgetWebhooks(init.resource)
  return c.json({ webhook: webhookView(config, await queue.status()) }, 201)
})

webhooks.get('/v1/webhooks', async (c) => {
  const resource = parseResource(c.req.query('resource'))
  await ownerOfResource(c.req.raw, c.env, resource)
  const subs = await resourceWebhooks(c.env, resource).list()
  const views = await Promise.all(
    subs.map(async ({ id }) => {
      const queue = c.env.WEBHOOK_QUEUE.getByName(queueName(id))
      const [config, status] = await Promise.all([queue.config(), queue.status()])
      return config === null ? null : webhookView(config, status)
    }),
  )
  return c.json({ webhooks: views.filter((view) => view !== null) })
})

webhooks.get('/v1/webhooks/:id', async (c) => {
  const { queue, config } = await ownedQueue(c.req.raw, c.env, c.req.param('id'))
  return c.json({ webhook: webhookView(config, await queue.status()) })
})

webhooks.get('/v1/webhooks/:id/deliveries', async (c) => {
  const { queue, config } = await ownedQueue(c.req.raw, c.env, c.req.param('id'))
  return c.json({ webhook: config.id, deliveries: await queue.deliveries() })
})

webhooks.delete('/v1/webhooks/:id', async (c) => {
  const { queue, config } = await ownedQueue(c.req.raw, c.env, c.req.param('id'))
  // The resource first, so no event is handed to a queue on its way out.
  await resourceWebhooks(c.env, config.resource).remove(config.id)
  await queue.remove()
  await c.env.WEBHOOK_OWNER.getByName(ownerName(config.owner)).release(config.id)
  forgetWebhooks(config.resource)
  return c.body(null, 204)
})

/** Subscription `id`'s queue and settings, once the credential is found to own its resource. */
async function ownedQueue(request: Request, env: Env, id: string) {
  if (!isSubscriptionId(id)) throw new VivimError(ErrorCode.NotFound, 'no such webhook')
  const queue = env.WEBHOOK_QUEUE.getByName(queueName(id))
  const config = await queue.config()
  if (config === null) throw new VivimError(ErrorCode.NotFound, 'no such webhook')
  await ownerOfResource(request, env, config.resource)
  return { queue, config }
}
