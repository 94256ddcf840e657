/**
 * Topics on Gossipsub, beside the edge. A message is the same signed
 * envelope as at the edge (`@vivim/shared`'s topic envelope), published as
 * its canonical bytes; each peer checks the signature and topic before
 * Gossipsub delivers or forwards it (a bad one is rejected and costs its
 * sender score), and hands each message to the app once by its VIVIM message
 * id, whether it came over the mesh, from the edge, or both.
 *
 * With an edge (`VivimClient`), a subscription listens on both and a publish
 * sends the ONE envelope both ways, so every copy has the same id: peers on
 * the mesh get it in a hop, peers on the edge alone get it from the edge,
 * and nobody gets it twice. A peer's own messages are not handed back to it.
 *
 * @example
 * ```ts
 * const topics = new MeshTopics({ pubsub: node.services.pubsub, edge: client }, { identity })
 * const stop = topics.subscribe('public:chat:lobby', (m) => console.log(m.via, m.text()))
 * await topics.publish('public:chat:lobby', 'hello')
 * ```
 */
import { type GossipSub, type Message, TopicValidatorResult } from '@libp2p/gossipsub'
import {
  createEnvelope,
  decodeEnvelope,
  ErrorCode,
  encodeEnvelope,
  type Identity,
  isTopic,
  messageId,
  type TopicEnvelope,
  VivimError,
  validateEnvelopeAsync,
} from '@vivim/shared'
import { SeenIds } from '@vivim/shared/mesh'
import type { TopicMessage } from '../topic-client.ts'

/** A message received on a topic, over the mesh or from the edge. */
export interface MeshTopicMessage {
  readonly id: string
  readonly author: string
  readonly timestamp: number
  readonly payload: Uint8Array
  /** Where this copy came from (the first to arrive; later copies are dropped). */
  readonly via: 'mesh' | 'edge'
  /** The payload as UTF-8 text. */
  text(): string
}

/** The edge side of topics: `VivimClient` is one. */
export interface EdgeTopics {
  subscribe(
    topic: string,
    handler: (message: TopicMessage) => void,
    options: { onError?: (error: VivimError) => void },
  ): () => void
  publishEnvelope(envelope: TopicEnvelope): Promise<unknown>
}

/** The parts mesh topics run on. */
export interface MeshTopicsComponents {
  pubsub: GossipSub
  /** The edge as a second path; without it, topics travel on the mesh alone. */
  edge?: EdgeTopics
  /** Told of the edge's refusals and connection errors (the mesh side goes on). */
  onError?: (error: Error) => void
}

/** Who publishes, and how many message ids are remembered. */
export interface MeshTopicsInit {
  /** Signs published messages; needed to publish, not to subscribe. */
  identity?: Identity
  /** Message ids remembered to drop copies (default 10,000). */
  seenIds?: number
}

type Handler = (message: MeshTopicMessage) => void

/** Topics over Gossipsub and the edge, each message handed on once. */
export class MeshTopics {
  /** Copies dropped because the message had been handed on already (it came both ways). */
  duplicates = 0
  /** Mesh messages rejected: not an envelope, a bad signature, or another topic's (each costs its sender score). */
  rejected = 0
  private readonly c: MeshTopicsComponents
  private readonly init: MeshTopicsInit
  private readonly seen: SeenIds
  private readonly handlers = new Map<string, Set<Handler>>()
  private readonly edgeStops = new Map<string, () => void>()
  private readonly onMessage = (event: CustomEvent<Message>) => this.fromMesh(event.detail)

  constructor(components: MeshTopicsComponents, init: MeshTopicsInit = {}) {
    this.c = components
    this.init = init
    this.seen = new SeenIds(init.seenIds ?? 10_000)
    components.pubsub.addEventListener('message', this.onMessage)
  }

  /** Calls `handler` with each message of `topic`; returns a function that stops it. */
  subscribe(topic: string, handler: Handler): () => void {
    if (!isTopic(topic)) throw new VivimError(ErrorCode.BadRequest, `not a topic name: ${topic}`)
    let handlers = this.handlers.get(topic)
    if (handlers === undefined) {
      handlers = new Set()
      this.handlers.set(topic, handlers)
      const { pubsub, edge } = this.c
      pubsub.topicValidators.set(topic, async (_peer, message) => {
        const verdict = await validate(message)
        if (verdict === TopicValidatorResult.Reject) this.rejected++
        return verdict
      })
      pubsub.subscribe(topic)
      if (edge) {
        const onError = (error: VivimError) => this.c.onError?.(error)
        this.edgeStops.set(
          topic,
          edge.subscribe(topic, (m) => this.fromEdge(topic, m), { onError }),
        )
      }
    }
    handlers.add(handler)
    return () => this.unsubscribe(topic, handler)
  }

  /** Signs `data` and publishes it on the mesh and, with an edge, there too; resolves with its id once sent. */
  async publish(topic: string, data: Uint8Array | string): Promise<{ id: string }> {
    const identity = this.init.identity
    if (identity === undefined) throw new VivimError(ErrorCode.BadRequest, 'publishing needs an identity')
    const payload = typeof data === 'string' ? new TextEncoder().encode(data) : data
    const envelope = createEnvelope(identity, { topic, payload })
    const id = messageId(envelope)
    this.seen.add(id)
    await Promise.all([this.c.pubsub.publish(topic, encodeEnvelope(envelope)), this.c.edge?.publishEnvelope(envelope)])
    return { id }
  }

  /** Stops every subscription. */
  stop(): void {
    for (const topic of [...this.handlers.keys()]) this.drop(topic)
    this.c.pubsub.removeEventListener('message', this.onMessage)
  }

  private unsubscribe(topic: string, handler: Handler): void {
    const handlers = this.handlers.get(topic)
    handlers?.delete(handler)
    if (handlers?.size === 0) this.drop(topic)
  }

  private drop(topic: string): void {
    this.handlers.delete(topic)
    this.c.pubsub.unsubscribe(topic)
    this.c.pubsub.topicValidators.delete(topic)
    this.edgeStops.get(topic)?.()
    this.edgeStops.delete(topic)
  }

  /** A message Gossipsub accepted (its validator passed). */
  private fromMesh(message: Message): void {
    if (!this.handlers.has(message.topic)) return
    const envelope = decodeEnvelope(message.data)
    this.deliver(message.topic, messageId(envelope), envelope, 'mesh')
  }

  /** A message from the edge (the SDK checked its signature). */
  private fromEdge(topic: string, m: TopicMessage): void {
    this.deliver(topic, m.id, m, 'edge')
  }

  private deliver(
    topic: string,
    id: string,
    e: { readonly author: string; readonly timestamp: number; readonly payload: Uint8Array },
    via: 'mesh' | 'edge',
  ): void {
    if (!this.seen.add(id)) {
      this.duplicates++
      return
    }
    const message: MeshTopicMessage = {
      id,
      author: e.author,
      timestamp: e.timestamp,
      payload: e.payload,
      via,
      text: () => new TextDecoder().decode(e.payload),
    }
    for (const handler of this.handlers.get(topic) ?? []) handler(message)
  }
}

/** Gossipsub's check of a message: a valid envelope for its topic, or rejected. */
async function validate(message: Message): Promise<TopicValidatorResult> {
  try {
    await validateEnvelopeAsync(decodeEnvelope(message.data), { topic: message.topic })
    return TopicValidatorResult.Accept
  } catch {
    return TopicValidatorResult.Reject
  }
}
