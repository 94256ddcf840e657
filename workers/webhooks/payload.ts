/**
 * The `data` of each kind of delivery (`docs/protocol.md`, Webhooks), each
 * bounded so a delivery stays under `WEBHOOK_LIMITS.bodyBytes`:
 *
 * - `doc.changed`: the document id, its Yjs state vector now, the Yjs
 *   clients whose clocks moved since the last delivery (at most 256 listed),
 *   how many flushes were seen, the federated instances among the writers,
 *   and the first and last change's times. Not the update itself: a
 *   receiver that wants the content reads the document.
 * - `circle.members`: the members added (with their role), removed, and
 *   whose role changed, since the last delivery (at most 500 each).
 * - `topic.message`: the signed envelope's bytes, so the receiver can check
 *   the author's signature, and its id, author, time and topic.
 *
 * @example
 * ```ts
 * const data = docChangedData('notes:n1', stateVectorNow, lastDelivered, { firstAt, lastAt, updates: 3, peers: [] })
 * ```
 */
import { base64urlnopad } from '@scure/base'
import { type CircleRole, decodeEnvelope, messageId } from '@vivim/shared'
import * as Y from 'yjs'

/** Clients listed in one `doc.changed`; the rest are counted. */
const MAX_CLIENTS = 256
/** A state vector larger than this is left out (null): the receiver reads the document instead. */
const MAX_STATE_VECTOR_BYTES = 32 * 1024
/** Members listed per change kind in one `circle.members`. */
const MAX_MEMBERS = 500

/** What the flushes since the last delivery said. */
export interface SeenChanges {
  readonly firstAt: number | null
  readonly lastAt: number | null
  readonly updates: number
  readonly peers: readonly string[]
  /** The DIDs whose writes they held (peers' and unsigned writes name no one). */
  readonly writers?: readonly string[]
}

export interface DocChangedData {
  readonly doc: string
  readonly stateVector: string | null
  readonly clients: { client: number; from: number; to: number }[]
  readonly moreClients: number
  readonly updates: number
  readonly peers: readonly string[]
  /** The DIDs that wrote since the last delivery (at most 32, the first seen). */
  readonly writers: readonly string[]
  readonly since: number | null
  readonly until: number | null
}

/** A `doc.changed`: who wrote between state vector `before` (null: none yet) and `now`. */
export function docChangedData(
  docId: string,
  now: Uint8Array,
  before: Uint8Array | null,
  seen: SeenChanges,
): DocChangedData {
  const was = before === null ? new Map<number, number>() : Y.decodeStateVector(before)
  const clients = [...Y.decodeStateVector(now)]
    .filter(([client, clock]) => clock > (was.get(client) ?? 0))
    .map(([client, clock]) => ({ client, from: was.get(client) ?? 0, to: clock }))
    .sort((a, b) => a.client - b.client)
  return {
    doc: docId,
    stateVector: now.length > MAX_STATE_VECTOR_BYTES ? null : base64urlnopad.encode(now),
    clients: clients.slice(0, MAX_CLIENTS),
    moreClients: Math.max(0, clients.length - MAX_CLIENTS),
    updates: seen.updates,
    peers: seen.peers,
    writers: seen.writers ?? [],
    since: seen.firstAt,
    until: seen.lastAt,
  }
}

/** Whether a state vector moved past another (a delete alone does not move it). */
export function stateVectorMoved(now: Uint8Array, before: Uint8Array | null): boolean {
  return docChangedData('', now, before, { firstAt: null, lastAt: null, updates: 0, peers: [] }).clients.length > 0
}

/** A circle's members: DID → role. */
export type Members = Record<string, CircleRole>

/** The members of a circle document, from its whole state as a Yjs update. */
export function membersOf(state: Uint8Array): Members {
  const doc = new Y.Doc()
  Y.applyUpdate(doc, state)
  const out: Members = {}
  for (const [did, member] of doc.getMap<{ role?: CircleRole }>('members')) {
    if (member && typeof member.role === 'string') out[did] = member.role
  }
  doc.destroy()
  return out
}

export interface CircleMembersData {
  readonly doc: string
  readonly added: { did: string; role: CircleRole }[]
  readonly removed: string[]
  readonly roles: { did: string; from: CircleRole; to: CircleRole }[]
  /** Some list was cut to its bound: the receiver reads the circle for the rest. */
  readonly truncated: boolean
}

/** The membership changes between two member lists, or null when there are none. */
export function circleMembersData(docId: string, before: Members, now: Members): CircleMembersData | null {
  const added = Object.entries(now)
    .filter(([did]) => !(did in before))
    .map(([did, role]) => ({ did, role }))
  const removed = Object.keys(before).filter((did) => !(did in now))
  const roles = Object.entries(now)
    .filter(([did, role]) => did in before && before[did] !== role)
    .map(([did, role]) => ({ did, from: before[did] as CircleRole, to: role }))
  if (added.length + removed.length + roles.length === 0) return null
  const cut = [added, removed, roles].some((list) => list.length > MAX_MEMBERS)
  return {
    doc: docId,
    added: added.slice(0, MAX_MEMBERS),
    removed: removed.slice(0, MAX_MEMBERS),
    roles: roles.slice(0, MAX_MEMBERS),
    truncated: cut,
  }
}

export interface TopicMessageData {
  readonly topic: string
  readonly id: string
  readonly author: string
  readonly timestamp: number
  /** The envelope's canonical CBOR, base64url: what the author signed, checkable by the receiver. */
  readonly envelope: string
}

/** A `topic.message` from the envelope's encoded bytes. */
export function topicMessageData(envelopeBytes: Uint8Array): TopicMessageData {
  const envelope = decodeEnvelope(envelopeBytes)
  return {
    topic: envelope.topic,
    id: messageId(envelope),
    author: envelope.author,
    timestamp: envelope.timestamp,
    envelope: base64urlnopad.encode(envelopeBytes),
  }
}
