/**
 * The people of the census workload, as apps would be: each an SDK client
 * (`VivimClient`) with its own identity, signing a fresh invocation for every
 * connect and publish; members hold the owner's grants. What each one does
 * resolves only once the edge has shown it done (a document synced, a
 * message received back, a signaling echo), so the counts the census reads
 * are of finished work, not of a race.
 */
import {
  type Capability,
  createRecord,
  createRevocation,
  encodeCanonical,
  encodeCapability,
  encodeRevocation,
  formatRecordKey,
  type Identity,
  type RecordKind,
} from '@vivim/shared'
import WebSocket from 'ws'
import * as Y from 'yjs'
import type { VivimDocProvider } from '../../../client/src/doc-provider.ts'
import type { TopicMessage } from '../../../client/src/topic-client.ts'
import { VivimClient } from '../../../client/src/vivim-client.ts'
import { waitFor } from './instances.ts'

const HOUR = 3_600_000

/** A member: its client, and the owner's grants it holds (on `doc:notes:*` and `topic:user:*`). */
export interface Member {
  readonly client: VivimClient
  readonly grants: readonly Capability[]
}

/** A client of `edge` acting as `identity`, holding grants from `owner` to read and write its notes and topics. */
export function memberOf(edge: string, identity: Identity, owner: VivimClient): Member {
  const client = new VivimClient({ edge, identity })
  const expiresAt = Date.now() + HOUR
  const grants = ['doc:notes:*', 'topic:user:*'].map((resource) =>
    owner.grant({ resource, actions: ['read', 'write'], expiresAt, to: identity.did }),
  )
  for (const grant of grants) client.addGrant(grant)
  return { client, grants }
}

/** Opens a document and resolves once it is synced; rejects on a refusal. */
export function openSynced(client: VivimClient, docId: string): Promise<VivimDocProvider> {
  const provider = client.document(docId, new Y.Doc())
  return new Promise((resolve, reject) => {
    provider.on('error', (error) => reject(error))
    if (provider.state.value === 'synced') resolve(provider)
    provider.state.on((state) => state === 'synced' && resolve(provider))
  })
}

/** The map every census edit writes to. */
export const mapOf = (provider: VivimDocProvider) => provider.doc.getMap<string>('m')

/** A subscription that keeps the ids it received, and the id of the message it was opened with. */
export interface Subscription {
  readonly ids: Set<string>
  readonly first: string
  stop(): void
}

/**
 * Publishes `text` to `topic`, then subscribes from that message on, and resolves once the message is
 * back: from then on the subscription is live and receives every later message.
 */
export async function publishAndSubscribe(client: VivimClient, topic: string, text: string): Promise<Subscription> {
  const { id, cursor } = await client.publish(topic, text)
  const ids = new Set<string>()
  const stop = client.subscribe(topic, (m: TopicMessage) => ids.add(m.id), { cursor: cursor - 1 })
  await waitFor(`${topic} subscribed`, () => (ids.has(id) ? true : undefined))
  return { ids, first: id, stop }
}

/** A signed public record of `author` (`/vivim/<kind>/<did>[/<name>]`). */
export function recordOf(author: Identity, kind: RecordKind, text: string, name?: string) {
  const key = formatRecordKey(name === undefined ? { kind, owner: author.did } : { kind, owner: author.did, name })
  return createRecord(author, { key, value: new TextEncoder().encode(text), public: true })
}

/** A y-webrtc signaling socket joined to one room. */
export interface SignalingSession {
  /** Publishes `count` announcements and resolves once each came back (a publish is relayed to its sender too). */
  publish(count: number): Promise<void>
  close(): void
}

/**
 * Opens a y-webrtc signaling socket for one room (a document id) with an invocation for
 * `doc:<room>`, and joins the room.
 */
export async function joinSignaling(edge: string, client: VivimClient, room: string): Promise<SignalingSession> {
  const token = await (client.tokenFor(`doc:${room}`) as () => Promise<string>)()
  const ws = new WebSocket(`${edge.replace(/^http/, 'ws')}/v1/signaling?token=${encodeURIComponent(token)}`)
  const echoes = new Set<string>()
  let closed: string | null = null
  let sent = 0
  ws.on('message', (data: Buffer) => {
    const message = JSON.parse(data.toString()) as { data?: { from?: string } }
    if (message.data?.from) echoes.add(message.data.from)
  })
  ws.on('close', (code: number, reason: Buffer) => (closed = `${code} ${reason}`))
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  ws.send(JSON.stringify({ type: 'subscribe', topics: [room] }))
  return {
    async publish(count) {
      const from = Array.from({ length: count }, () => `${client.identity?.did}#${sent++}`)
      for (const f of from)
        ws.send(JSON.stringify({ type: 'publish', topic: room, data: { type: 'announce', from: f } }))
      await waitFor(`signaling echoes in ${room}`, () => {
        if (closed !== null) throw new Error(`signaling closed: ${closed}`)
        return from.every((f) => echoes.has(f)) ? true : undefined
      })
    },
    close: () => ws.close(1000, 'done'),
  }
}

/** A signaling session in one room: join, `messages` announcements, leave. */
export async function signal(edge: string, client: VivimClient, room: string, messages: number): Promise<void> {
  const session = await joinSignaling(edge, client, room)
  await session.publish(messages)
  session.close()
}

/** The owner revokes a grant it issued (`POST /v1/revocations`); resolves once the edge stored it. */
export async function revokeGrant(edge: string, owner: Identity, grant: Capability): Promise<void> {
  const body = encodeCanonical({
    revocation: encodeRevocation(createRevocation(owner, grant)),
    token: encodeCapability(grant),
  })
  const response = await fetch(`${edge}/v1/revocations`, { method: 'POST', body: body as Uint8Array<ArrayBuffer> })
  if (response.status !== 200) throw new Error(`revocation at ${edge}: ${response.status} ${await response.text()}`)
}
