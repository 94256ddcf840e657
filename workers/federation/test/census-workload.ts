/**
 * The census's mixed workload on two federated instances, A and B. On each,
 * one owner holds 20 documents and 10 topics of its own, plus a document and
 * a topic federated between the two (A is the document's home), and on A a
 * topic a bridge joins; the owner stays connected to all of them, as an
 * observer that sees every edit and message arrive. A phase then brings new
 * members, each with the owner's grants, who do what apps do: open three
 * documents and edit them, publish to and subscribe to topics, write records,
 * search, signal in a WebRTC room, and read records, some of them present
 * only on the other instance and some nowhere (so the bridge and the peer are
 * asked); the owner revokes one member's grant. Every pick is seeded.
 */
import type { Capability, Identity } from '@vivim/shared'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { identities, prng } from '../../../bench/index/corpus.ts'
import type { VivimDocProvider } from '../../../client/src/doc-provider.ts'
import { VivimClient } from '../../../client/src/vivim-client.ts'
import { memberOf, openSynced, publishAndSubscribe, revokeGrant, type Subscription } from './census-actors.ts'
import { type Expected, memberWork, readsOf } from './census-member.ts'
import { readCensus, totalOf } from './census-rows.ts'
import { type Instance, waitFor } from './instances.ts'

/** The document whose home is A and of which B keeps a replica. */
export const FEDERATED_DOC = 'notes:fed'

/** One instance as the workload sees it: its owner's client, resources and observers. */
export interface Side {
  readonly label: 'a' | 'b'
  readonly instance: Instance
  readonly owner: Identity
  readonly client: VivimClient
  /** The documents members open: the side's own and the federated one. */
  readonly docs: readonly string[]
  /** The topics members publish to: the side's own, the federated one, and on A the bridged one. */
  readonly topics: readonly string[]
  readonly observers: Map<string, VivimDocProvider>
  readonly listeners: Map<string, Subscription>
}

export const federatedTopic = (owner: Identity) => `user:fed:${owner.did}`
export const bridgedTopic = (owner: Identity) => `user:bridged:${owner.did}`

/** The owner of every resource of the workload (seeded, so its resources have the same names on every run). */
export const workloadOwner = (identities(1, 7) as [Identity])[0]

async function openSide(label: 'a' | 'b', instance: Instance, owner: Identity): Promise<Side> {
  const client = new VivimClient({ edge: instance.url, identity: owner })
  const docs = [...Array.from({ length: 20 }, (_, i) => `notes:${label}-d${i}`), FEDERATED_DOC]
  const topics = [
    ...Array.from({ length: 10 }, (_, j) => `user:${label}-t${j}:${owner.did}`),
    federatedTopic(owner),
    ...(label === 'a' ? [bridgedTopic(owner)] : []),
  ]
  // The owner's first connect to each document claims it.
  const observers = new Map(await Promise.all(docs.map(async (d) => [d, await openSynced(client, d)] as const)))
  const listeners = new Map(
    await Promise.all(topics.map(async (t) => [t, await publishAndSubscribe(client, t, 'open')] as const)),
  )
  return { label, instance, owner, client, docs, topics, observers, listeners }
}

/** A replica's first connect to a document names its home (`?home=`), as a stock y-websocket client. */
export async function linkReplica(b: Instance, home: Instance, owner: Identity, docId = FEDERATED_DOC): Promise<void> {
  const client = new VivimClient({ edge: b.url, identity: owner })
  const token = await (client.tokenFor(`doc:${docId}`) as () => Promise<string>)()
  const provider = new WebsocketProvider(`${b.url.replace(/^http/, 'ws')}/v1/docs`, docId, new Y.Doc(), {
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    disableBc: true,
    params: { home: home.domain, token },
  })
  await waitFor(`the replica of ${docId} synced`, () => (provider.synced ? true : undefined))
  provider.destroy()
}

/** Both sides, their observers connected and the federated topic and document flowing both ways. */
export async function openSides(a: Instance, b: Instance, owner = workloadOwner): Promise<[Side, Side]> {
  const sideA = await openSide('a', a, owner)
  await linkReplica(b, a, owner)
  const sideB = await openSide('b', b, owner)
  for (const [from, to] of [
    [sideA, sideB],
    [sideB, sideA],
  ] as const) {
    // Each side subscribed at the other when its owner opened the topic; probes go until one is through.
    const topic = federatedTopic(owner)
    await waitFor(`${topic} from ${from.label} to ${to.label}`, async () => {
      const { id } = await from.client.publish(topic, 'probe')
      return (await arrivedWithin(to.listeners.get(topic) as Subscription, id)) ? true : undefined
    })
    from.observers.get(FEDERATED_DOC)?.doc.getMap<string>('m').set(`probe-${from.label}`, 'x')
    const replica = to.observers.get(FEDERATED_DOC) as VivimDocProvider
    await waitFor(`${FEDERATED_DOC} from ${from.label}`, () =>
      replica.doc.getMap('m').has(`probe-${from.label}`) ? true : undefined,
    )
  }
  return [sideA, sideB]
}

/** Whether `id` reaches the subscription within a second (a probe, retried by its caller). */
async function arrivedWithin(subscription: Subscription, id: string): Promise<boolean> {
  for (let i = 0; i < 10 && !subscription.ids.has(id); i++) await new Promise((r) => setTimeout(r, 100))
  return subscription.ids.has(id)
}

/**
 * One phase: `members` new members on each side do their work at once, then read records (some from
 * the other side), and the owner revokes one member's grant on each side. Resolves once every edit
 * and message reached the owner's observers on both sides and both censuses stopped moving.
 */
export async function runPhase(sides: readonly [Side, Side], phase: number, members: number): Promise<void> {
  const expected: Expected = { keys: new Map(), ids: new Map() }
  const crew = sides.map((side, s) =>
    identities(members, 1000 * phase + s).map((identity) => memberOf(side.instance.url, identity, side.client)),
  )
  await Promise.all(
    sides.flatMap((side, s) => {
      const random = prng(100 * phase + s)
      return (crew[s] ?? []).map((member, i) =>
        memberWork(side, member, `p${phase}${side.label}${i}`, random, expected),
      )
    }),
  )
  await Promise.all(sides.flatMap((side, s) => readsOf(side, crew[s] ?? [], crew[1 - s] ?? [])))
  await Promise.all(
    sides.map((side, s) => revokeGrant(side.instance.url, side.owner, crew[s]?.[0]?.grants[0] as Capability)),
  )
  await allArrived(sides, expected)
  await settled(sides.map((side) => side.instance.url))
}

/** Every edit at every observer of its document, every message at every listener of its topic, on both sides. */
async function allArrived(sides: readonly Side[], expected: Expected): Promise<void> {
  for (const side of sides) {
    for (const [doc, keys] of expected.keys) {
      const observer = side.observers.get(doc)
      if (!observer) continue
      await waitFor(
        `${doc} at ${side.label}`,
        () => [...keys].every((k) => observer.doc.getMap('m').has(k)) || undefined,
      )
    }
    for (const [topic, ids] of expected.ids) {
      const listener = side.listeners.get(topic)
      if (!listener) continue
      await waitFor(`${topic} at ${side.label}`, () => [...ids].every((id) => listener.ids.has(id)) || undefined)
    }
  }
}

/** Resolves once neither census moved over four reads 250 ms apart: outboxes drained, rooms flushed. */
export async function settled(urls: readonly string[]): Promise<void> {
  let last = -1
  let still = 0
  await waitFor('the censuses to settle', async () => {
    const totals = await Promise.all(urls.map(async (url) => totalOf(await readCensus(url))))
    const sum = totals.reduce((a, b) => a + b, 0)
    still = sum === last ? still + 1 : 0
    last = sum
    if (still >= 3) return true
    await new Promise((r) => setTimeout(r, 250))
    return undefined
  })
}

/** Closes the owner's observers and listeners. */
export function closeSide(side: Side): void {
  for (const observer of side.observers.values()) observer.destroy()
  for (const listener of side.listeners.values()) listener.stop()
}
