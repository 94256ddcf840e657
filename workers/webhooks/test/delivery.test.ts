/**
 * Webhooks end to end: an edge under `wrangler dev` delivers to a Node HTTP
 * server on 127.0.0.1 that checks each delivery with the steps of
 * `docs/protocol.md` alone (`docs-receiver.ts`). The webhooks are managed
 * with the SDK (`client/src/webhooks.ts`), in development mode, so no token
 * is needed. Short retry delays (`WEBHOOK_RETRY_*`), so retries take
 * seconds; every wait is for a state, with the test's timeout as the hang
 * guard.
 */
import { base64urlnopad } from '@scure/base'
import { createEnvelope, decodeEnvelope, encodeEnvelope, generateIdentity, validateEnvelope } from '@vivim/shared'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { type Webhook, type WebhookDelivery, Webhooks } from '../../../client/src/webhooks.ts'
import { type RunningEdge, startEdge } from '../../../scripts/test-edge.ts'
import { openDoc } from '../../federation/test/doc-client.ts'
import { DocsReceiver } from './docs-receiver.ts'

let edge: RunningEdge
let hooks: Webhooks
const receiver = new DocsReceiver()

beforeAll(async () => {
  await receiver.listen()
  edge = await startEdge({
    vars: { VIVIM_ENV: 'development', WEBHOOK_RETRY_BASE_MS: '200', WEBHOOK_RETRY_MAX_MS: '800' },
  })
  receiver.edgeDid = ((await (await fetch(`${edge.url}/v1/edge`)).json()) as { did: string }).did
  hooks = new Webhooks(edge.url)
})

afterAll(async () => {
  await edge?.stop()
  await receiver.down()
})

/** Waits until `predicate` holds, a state at a time; the test's timeout is the hang guard. */
async function until(predicate: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await predicate())) await new Promise((resolve) => setTimeout(resolve, 50))
}

async function publish(topic: string, text: string): Promise<void> {
  const body = encodeEnvelope(createEnvelope(generateIdentity(), { topic, payload: new TextEncoder().encode(text) }))
  const res = await fetch(`${edge.url}/v1/topics/${topic}`, { method: 'POST', body })
  expect(res.status).toBe(200)
}

async function webhookOf(resource: string, id: string): Promise<Webhook> {
  return (await hooks.list(resource)).find((w) => w.id === id) as Webhook
}

describe('webhooks to a receiver written from the docs', () => {
  it('a topic message is delivered, verified by the documented steps, with an envelope its author signed', async () => {
    const topic = `public:hooks:${crypto.randomUUID()}`
    const webhook = await hooks.create({ resource: `topic:${topic}`, url: receiver.url })
    await publish(topic, 'hello')
    await until(() => receiver.of(webhook.id).length === 1)
    expect(receiver.refused).toEqual([])
    const [delivery] = receiver.of(webhook.id)
    expect(delivery).toMatchObject({ v: 'vivim-webhook/1', seq: 1, event: 'topic.message', resource: `topic:${topic}` })
    const envelope = decodeEnvelope(base64urlnopad.decode(delivery?.data.envelope as string))
    validateEnvelope(envelope)
    expect(new TextDecoder().decode(envelope.payload)).toBe('hello')
    expect(delivery?.data).toMatchObject({ topic, author: envelope.author })
  })

  it('a delivery the receiver fails (500, then down) is retried and then delivered once; the listing shows each state', async () => {
    const topic = `public:hooks:${crypto.randomUUID()}`
    const resource = `topic:${topic}`
    const webhook = await hooks.create({ resource, url: receiver.url })
    let refusedFor = ''
    receiver.answer = (d) => {
      if (d.webhook !== webhook.id) return 200
      refusedFor = d.id
      return 500
    }
    await publish(topic, 'retried')

    await until(async () => (await webhookOf(resource, webhook.id)).status.state === 'retrying')
    const retrying = await webhookOf(resource, webhook.id)
    expect(retrying.status).toMatchObject({ pending: 1, delivered: 0, lastError: 'the receiver answered 500' })
    expect(retrying.status.nextAttemptAt).toBeGreaterThan(retrying.createdAt)
    const [first] = await hooks.deliveries(webhook.id)
    expect(first).toMatchObject({ status: 'retrying', lastStatus: 500, finishedAt: null })

    // Down: an attempt that gets no answer at all.
    await receiver.down()
    const answered = (first as WebhookDelivery).attempts
    await until(async () => {
      const [d] = await hooks.deliveries(webhook.id)
      return d !== undefined && d.attempts > answered && d.lastStatus === null
    })
    const [down] = await hooks.deliveries(webhook.id)
    expect(down).toMatchObject({ status: 'retrying', lastStatus: null })
    expect(down?.lastError).not.toBeNull()

    receiver.answer = () => 200
    await receiver.listen()
    await until(() => receiver.of(webhook.id).length === 1)
    expect(receiver.of(webhook.id)[0]?.id).toBe(refusedFor)
    await until(async () => (await webhookOf(resource, webhook.id)).status.delivered === 1)
    const delivered = await webhookOf(resource, webhook.id)
    expect(delivered.status).toMatchObject({ state: 'active', pending: 0, failed: 0, nextAttemptAt: null })
    const [done] = await hooks.deliveries(webhook.id)
    expect(done).toMatchObject({ status: 'delivered', lastStatus: 200, nextAttemptAt: null })
    expect(done?.attempts).toBeGreaterThanOrEqual(3)
    expect(receiver.refused).toEqual([])
  })

  it('many quick document writes make one delivery or a few, made when the longest wait is due', async () => {
    const docId = `notes:${crypto.randomUUID()}`
    const { doc, provider } = openDoc(edge, docId)
    await until(() => provider.synced)
    // A debounce this test never outlives: only the longest wait can make the deliveries.
    const webhook = await hooks.create({
      resource: `doc:${docId}`,
      url: receiver.url,
      debounceMs: 600_000,
      maxWaitMs: 300,
    })
    const log = doc.getArray<number>('log')
    for (let i = 0; i < 50; i++) log.push([i])
    const clock = Y.decodeStateVector(Y.encodeStateVector(doc)).get(doc.clientID)
    const covers = (d: { data: Record<string, unknown> }) =>
      (d.data.clients as { client: number; to: number }[]).some((c) => c.client === doc.clientID && c.to === clock)
    await until(() => receiver.of(webhook.id).some(covers))
    const deliveries = receiver.of(webhook.id)
    expect(deliveries.length).toBeLessThan(50)
    expect(deliveries.every((d) => d.event === 'doc.changed' && d.data.doc === docId)).toBe(true)
    expect(receiver.refused).toEqual([])
    provider.destroy()
  })

  it('refuses what the SDK is asked to subscribe wrongly, and deletes', async () => {
    const topic = `public:hooks:${crypto.randomUUID()}`
    await expect(hooks.create({ resource: `topic:${topic}`, url: 'ftp://127.0.0.1/x' })).rejects.toMatchObject({
      code: 'bad_request',
    })
    await expect(
      hooks.create({ resource: `topic:${topic}`, url: receiver.url, event: 'doc.changed' }),
    ).rejects.toMatchObject({
      code: 'bad_request',
    })
    const webhook = await hooks.create({ resource: `topic:${topic}`, url: receiver.url })
    expect(await hooks.get(webhook.id)).toMatchObject({ id: webhook.id, status: { state: 'active' } })
    await hooks.delete(webhook.id)
    await expect(hooks.get(webhook.id)).rejects.toMatchObject({ code: 'not_found' })
    expect(await hooks.list(`topic:${topic}`)).toEqual([])
  })
})
