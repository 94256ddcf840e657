/**
 * What the webhook tests in workerd share: a stand-in receiver at
 * `https://hooks.example` (the edge's outbound `fetch` is intercepted, so
 * nothing leaves the test) whose answer each test sets, resources owned by a
 * fresh identity with the tokens to manage them, and the edge's routes.
 */
import { env, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { exports } from 'cloudflare:workers'
import {
  type Action,
  createEnvelope,
  encodeCapabilityText,
  encodeEnvelope,
  generateIdentity,
  type Identity,
  issueCapability,
} from '@vivim/shared'
import { vi } from 'vitest'
import { edgeIdentity } from '../auth/edge-identity.ts'
import { type QueueStatus, queueName } from '../webhooks/delivery-queue.ts'
import type { DeliveryInfo } from '../webhooks/queue-store.ts'
import { EDGE } from './socket-peer.ts'

export const HOOK = 'https://hooks.example/in'

/** A request the edge sent to the stand-in receiver. */
export interface Received {
  readonly url: string
  readonly method: string
  readonly headers: Headers
  readonly body: string
}

/** The stand-in receiver: what it was sent, and how it answers (200 unless told). */
export const receiver = {
  received: [] as Received[],
  answer: (_request: Received): Response => new Response('ok'),
}

const realFetch = globalThis.fetch
vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
  const request = new Request(input, init)
  if (new URL(request.url).hostname !== 'hooks.example') return realFetch(input, init)
  const got = { url: request.url, method: request.method, headers: request.headers, body: await request.text() }
  receiver.received.push(got)
  return receiver.answer(got)
})

/** Deliveries received by the stand-in for webhook `id`, bodies parsed. */
export function bodiesFor(id: string): { id: string; seq: number; event: string; data: Record<string, unknown> }[] {
  return receiver.received
    .map(
      (r) =>
        JSON.parse(r.body) as {
          id: string
          webhook: string
          seq: number
          event: string
          data: Record<string, unknown>
        },
    )
    .filter((b) => b.webhook === id)
}

/** `owner`'s invocation for `resource`. */
export function tokenOf(owner: Identity, resource: string, can: Action[] = ['read', 'write']): string {
  const aud = edgeIdentity(env).did
  return encodeCapabilityText(issueCapability(owner, { aud, res: resource, can, exp: Date.now() + 3_600_000 }))
}

export function api(path: string, token: string | null, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers)
  if (token !== null) headers.set('Authorization', `Bearer ${token}`)
  return exports.default.fetch(new Request(`${EDGE}${path}`, { ...init, headers }))
}

/** Subscribes `resource` for its owner; the new webhook's id. */
export async function subscribe(
  owner: Identity,
  resource: string,
  options: Record<string, unknown> = {},
): Promise<string> {
  const res = await api('/v1/webhooks', tokenOf(owner, resource), {
    method: 'POST',
    body: JSON.stringify({ resource, url: HOOK, ...options }),
  })
  if (res.status !== 201) throw new Error(`subscribe: ${res.status} ${await res.text()}`)
  return ((await res.json()) as { webhook: { id: string } }).webhook.id
}

/** A topic owned by a fresh identity (its write connect claims it), and a publisher of signed messages to it. */
export async function ownedTopic(): Promise<{
  owner: Identity
  topic: string
  publish: (text: string) => Promise<void>
}> {
  const owner = generateIdentity()
  const topic = `public:hooks:${crypto.randomUUID()}`
  const token = tokenOf(owner, `topic:${topic}`)
  const claim = await exports.default.fetch(
    new Request(`${EDGE}/v1/topics/${topic}?token=${encodeURIComponent(token)}`, { headers: { Upgrade: 'websocket' } }),
  )
  claim.webSocket?.accept()
  claim.webSocket?.close()
  const publish = async (text: string) => {
    const body = encodeEnvelope(createEnvelope(owner, { topic, payload: new TextEncoder().encode(text) }))
    const res = await api(`/v1/topics/${topic}`, token, { method: 'POST', body })
    if (res.status !== 200) throw new Error(`publish: ${res.status} ${await res.text()}`)
  }
  return { owner, topic, publish }
}

/** Webhook `id`'s status and deliveries, read from its queue. */
export async function queueOf(id: string): Promise<{ status: QueueStatus; deliveries: DeliveryInfo[] }> {
  const queue = env.WEBHOOK_QUEUE.getByName(queueName(id))
  return { status: await queue.status(), deliveries: await queue.deliveries() }
}

/** The next attempt of webhook `id`, now: its back-off is cut short and its alarm run. */
export async function retryNow(id: string): Promise<void> {
  const queue = env.WEBHOOK_QUEUE.getByName(queueName(id))
  await runInDurableObject(queue, (_, state) => {
    state.storage.sql.exec(`UPDATE deliveries SET next_at = 0 WHERE state = 'owed'`)
  })
  await runDurableObjectAlarm(queue)
}

/** Waits, a turn at a time, until `predicate` holds; the test's timeout is the hang guard. */
export async function until(predicate: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await predicate())) await new Promise((resolve) => setTimeout(resolve, 20))
}
