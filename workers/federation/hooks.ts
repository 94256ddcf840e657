/**
 * What federation does with each edge event it hears (`extension.ts` wires
 * these to `../extensions/events.ts`): a topic room storing a message, a
 * document room flushing, a revocation stored, a client opening a topic or
 * a document. Each does nothing when this instance does not federate, and
 * hands what must travel to the destination outboxes, which store it before
 * they return.
 *
 * @example
 * ```ts
 * await topicMessageStored(env, envelope) // what TopicRoom's `topicMessageStored` event runs here
 * ```
 */
import { ActivityType, decodeRevocation, encodeEnvelope, logLine, parseDomain, type TopicEnvelope } from '@vivim/shared'
import { federatesWith, federationConfig } from './config.ts'
import { descriptorOf } from './discovery.ts'
import { docState } from './doc-link.ts'
import { enqueue } from './enqueue.ts'
import { linkPeer, linksOf } from './hub.ts'
import { revocationShard } from './revocation-fanout.ts'

/** Never let a federation problem fail the local operation; say what went wrong instead. */
async function quietly(what: string, run: () => Promise<void>): Promise<void> {
  try {
    await run()
  } catch (error) {
    logLine('error', 'federation hook failed', { hook: what, error })
  }
}

/**
 * A topic room stored a new message: send its original bytes to every peer
 * federating the topic but the one it came from. Not quiet: a failure keeps
 * the message in the room's journal, which hands it over again.
 */
export async function topicMessageStored(env: Env, envelope: TopicEnvelope, origin: string | null): Promise<void> {
  if (!federationConfig(env)) return
  const peers = (await linksOf(env, 'topic', envelope.topic)).filter((l) => l.peer !== origin)
  if (peers.length === 0) return
  const bytes = encodeEnvelope(envelope)
  await Promise.all(
    peers.map((l) => enqueue(env, l.peer, { t: ActivityType.TopicMessage, topic: envelope.topic, envelope: bytes })),
  )
}

/** A client opened a topic here: subscribe to it at every configured peer not yet subscribed to. */
export function topicOpened(env: Env, topic: string): Promise<void> {
  const config = federationConfig(env)
  if (!config || config.peers.length === 0) return Promise.resolve()
  return quietly('topic subscribe', async () => {
    const linked = new Set((await linksOf(env, 'topic', topic)).map((l) => l.peer))
    for (const peer of config.peers) {
      if (linked.has(peer)) continue
      // Linked only once the subscription is queued: a link without it would never be asked for again.
      await enqueue(env, peer, { t: ActivityType.TopicSubscribe, topic })
      await linkPeer(env, 'topic', topic, peer, 'peer')
    }
  })
}

/**
 * A document room stored a flush: send the update to the document's home or
 * replicas but the peer it came from. Not quiet: a failure keeps the flush
 * in the room's journal, which hands it over again.
 */
export async function docFlushed(env: Env, docId: string | null, update: Uint8Array, origin: string | null) {
  if (!federationConfig(env) || docId === null) return
  const links = (await linksOf(env, 'doc', docId)).filter((l) => l.peer !== origin)
  await Promise.all(links.map((l) => enqueue(env, l.peer, { t: ActivityType.DocUpdate, doc: docId, update })))
}

/**
 * A client opened a document here: if it names a home instance (`?home=`),
 * or the document already has one, link the home and send it this replica's
 * state vector; the home answers with what this replica lacks and asks for
 * what it lacks itself. Every open does it again, which is what catches a
 * replica up after any gap.
 */
export function docOpened(env: Env, docId: string, home: string | null | undefined): Promise<void> {
  const config = federationConfig(env)
  if (!config) return Promise.resolve()
  return quietly('document replica', async () => {
    let domain: string
    if (home) {
      domain = parseDomain(home)
      if (domain === config.domain) return
      const descriptor = await descriptorOf(env, domain)
      // A home that is not a peer would refuse what we send: name only homes this instance federates with.
      if (!federatesWith(config, domain, descriptor.did)) return
      await linkPeer(env, 'doc', docId, domain, 'home')
    } else {
      const known = (await linksOf(env, 'doc', docId)).find((l) => l.role === 'home')
      if (!known) return
      domain = known.peer
    }
    const { stateVector: sv } = await docState(env, docId)
    await enqueue(env, domain, { t: ActivityType.DocSync, doc: docId, sv, reply: false })
  })
}

/**
 * A revocation was stored here: pass it on once to every instance that
 * federates anything with this one. Not quiet: the registry answers the
 * revocation only once every outbox holds it, and a failure here fails the
 * revocation, whose retry passes it on again (it is marked passed on only
 * after the outboxes took it).
 */
export async function revocationStored(env: Env, revocation: Uint8Array, token: Uint8Array): Promise<void> {
  const config = federationConfig(env)
  if (!config) return
  const id = decodeRevocation(revocation).revoke
  // Its shard alone (`revocation-fanout.ts`): no object for the whole instance on the revocation path.
  const shard = revocationShard(env, id)
  const linked = await shard.revocationOut(id, revocation, token)
  if (linked === null) return
  const peers = new Set([...config.peers, ...linked])
  await Promise.all([...peers].map((peer) => enqueue(env, peer, { t: ActivityType.Revocation, revocation, token })))
  await shard.revocationPassed(id, revocation, token)
}
