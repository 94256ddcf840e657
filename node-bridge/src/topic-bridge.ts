/**
 * Topics both ways between the edge's topic rooms and Gossipsub. Each topic
 * the bridge joins is a Gossipsub topic of the same name and an `EdgeTopic`
 * socket. What crosses is the ORIGINAL signed envelope, so its signature
 * still verifies on the other side, and every envelope is forwarded at most
 * once by its message id (`SeenIds`): the copy the edge echoes back, or the
 * one another bridge republishes, is dropped here.
 *
 * Edge to mesh, each topic's messages go through a `MeshOutlet`, which waits
 * for a subscribed mesh peer before it hands one to Gossipsub and reports
 * the cursor handled to the journal (`topic-journal.ts`); with a data
 * directory a start resumes every topic from there, so what was published
 * at the edge while the bridge was down reaches the mesh. Mesh to edge,
 * each message goes to the room's `EdgeTopic`, which keeps it (journaled
 * with a data directory) until the room's `ok`. Gossipsub has no
 * redelivery: a message Gossipsub handed to the bridge is lost to the edge
 * if the bridge dies before it is journaled (one datastore put, started as
 * the message arrives) or, without a data directory, before the room's
 * `ok`. Another bridge in the mesh forwarding the same topic covers that.
 *
 * Configured topics are names (`public:news`) or patterns ending in `*`
 * (`public:*`); a pattern joins each matching topic when a mesh peer
 * subscribes to it (the edge has no listing of topics to join from).
 *
 * Gossipsub messages are validated before they are delivered or forwarded:
 * bytes that are not a valid envelope for the topic are rejected
 * (`TopicValidatorResult.Reject`), which counts as an invalid delivery in
 * the sender's peer score.
 *
 * @example
 * ```ts
 * const topics = new TopicBridge({ node, credentials }, { topics: ['public:*'] })
 * topics.start()
 * ```
 */
import { type GossipSub, type Message, TopicValidatorResult } from '@libp2p/gossipsub'
import { createTopicScoreParams, type TopicScoreParams } from '@libp2p/gossipsub/score'
import type { PeerId } from '@libp2p/interface'
import {
  decodeEnvelope,
  encodeEnvelope,
  isTopic,
  messageId,
  type TopicEnvelope,
  validateEnvelopeAsync,
} from '@vivim/shared'
import { SeenIds } from '@vivim/shared/mesh'
import type { EdgeCredentials } from './edge-credentials.ts'
import { EdgeTopic } from './edge-topic.ts'
import { type Logger, silentLogger } from './log.ts'
import { MeshOutlet } from './mesh-outlet.ts'
import type { BridgeMetrics } from './metrics.ts'
import type { BridgeLibp2p } from './node.ts'
import type { TopicJournal } from './topic-journal.ts'

/** What the topic bridge is given from outside. */
export interface TopicBridgeComponents {
  node: BridgeLibp2p
  /** `null` runs the mesh side alone (no edge configured). */
  credentials: EdgeCredentials | null
  /** Each topic's handled cursor and unanswered publishes; with none, they live in memory only. */
  journal?: TopicJournal
  metrics?: BridgeMetrics
  log?: Logger
}

/** Which topics to forward, and how much to remember. */
export interface TopicBridgeInit {
  /** Topic names, or patterns ending in `*`. */
  topics: string[]
  /** Most topics joined through patterns. */
  maxTopics?: number
  /** How many forwarded message ids are remembered. */
  seenIds?: number
  edgeInitialDelayMs?: number
  edgeMaxDelayMs?: number
}

/** A joined topic's two ends; both `null` without an edge. */
interface Joined {
  readonly room: EdgeTopic | null
  readonly outlet: MeshOutlet | null
}

/**
 * Peer-score weights for a joined topic. An invalid message costs its sender (P4, squared, slow to
 * decay); a first delivery earns a little (P2). The mesh-delivery-rate penalties (P3, P3b) are off:
 * VIVIM topics are bursty and mostly quiet, and those penalties would graylist honest mesh peers
 * for delivering fewer messages than a threshold between bursts.
 */
const TOPIC_SCORE = createTopicScoreParams({
  topicWeight: 1,
  timeInMeshWeight: 0.01,
  timeInMeshQuantum: 1_000,
  timeInMeshCap: 3_600,
  firstMessageDeliveriesWeight: 1,
  firstMessageDeliveriesDecay: 0.5,
  firstMessageDeliveriesCap: 100,
  meshMessageDeliveriesWeight: 0,
  meshFailurePenaltyWeight: 0,
  invalidMessageDeliveriesWeight: -10,
  invalidMessageDeliveriesDecay: 0.9,
})

/**
 * The parts of the Gossipsub router its interface does not show: the score weights of each joined
 * topic (tuned at run time), and the peers it has an open stream to (a publish reaches only those).
 */
interface RouterInternals {
  readonly score: { readonly params: { readonly topics: Record<string, TopicScoreParams> } }
  readonly streamsOutbound: ReadonlyMap<string, unknown>
}

/** Whether `topic` is `pattern`, or starts with a pattern's prefix before its trailing `*`. */
export function topicMatches(pattern: string, topic: string): boolean {
  return pattern.endsWith('*') ? topic.startsWith(pattern.slice(0, -1)) : topic === pattern
}

/** Topics both ways between edge rooms and Gossipsub, each message once by its id, with its original signature. */
export class TopicBridge {
  private readonly c: TopicBridgeComponents
  private readonly init: TopicBridgeInit
  private readonly log: Logger
  private readonly seen: SeenIds
  private readonly joined = new Map<string, Joined>()
  private readonly onMessage = (event: CustomEvent<Message>) => this.fromMesh(event.detail)
  private readonly onSubscription = (
    event: CustomEvent<{ subscriptions: { topic: string; subscribe: boolean }[] }>,
  ) => {
    for (const { topic, subscribe } of event.detail.subscriptions) {
      if (!subscribe) continue
      this.maybeJoin(topic)
      void this.joined.get(topic)?.outlet?.drain()
    }
  }
  // A subscriber's stream from this node can open after its subscription arrived: look again each heartbeat.
  private readonly onHeartbeat = () => {
    for (const { outlet } of this.joined.values()) if (outlet && outlet.waiting > 0) void outlet.drain()
  }

  constructor(components: TopicBridgeComponents, init: TopicBridgeInit) {
    this.c = components
    this.init = init
    this.log = components.log ?? silentLogger
    this.seen = new SeenIds(init.seenIds ?? 100_000)
  }

  private get pubsub(): GossipSub {
    return this.c.node.services.pubsub
  }

  /** The topics joined so far. */
  topics(): string[] {
    return [...this.joined.keys()]
  }

  /** Edge messages waiting for a mesh peer, and mesh messages waiting for the edge's `ok`, over all topics. */
  waiting(): { mesh: number; edge: number } {
    let mesh = 0
    let edge = 0
    for (const { room, outlet } of this.joined.values()) {
      mesh += outlet?.waiting ?? 0
      edge += room?.waiting ?? 0
    }
    return { mesh, edge }
  }

  /** Joins the configured topics, and those of the last run that a pattern still matches, and starts forwarding. */
  start(): void {
    this.pubsub.addEventListener('message', this.onMessage)
    this.pubsub.addEventListener('subscription-change', this.onSubscription)
    this.pubsub.addEventListener('gossipsub:heartbeat', this.onHeartbeat)
    for (const topic of this.init.topics) if (!topic.endsWith('*')) this.join(topic)
    for (const topic of this.c.journal?.topics() ?? []) this.maybeJoin(topic)
  }

  /** Leaves every topic and closes its edge sockets. */
  async stop(): Promise<void> {
    this.pubsub.removeEventListener('message', this.onMessage)
    this.pubsub.removeEventListener('subscription-change', this.onSubscription)
    this.pubsub.removeEventListener('gossipsub:heartbeat', this.onHeartbeat)
    for (const { outlet } of this.joined.values()) outlet?.stop()
    await Promise.all([...this.joined.values()].map(({ room }) => room?.stop()))
    this.joined.clear()
  }

  /** Joins `topic` on both sides (idempotent). */
  join(topic: string): void {
    if (this.joined.has(topic)) return
    if (!isTopic(topic)) {
      this.log.warn('not a topic name', { topic })
      return
    }
    const pubsub = this.pubsub
    pubsub.topicValidators.set(topic, (peer, message) => this.validate(peer, message))
    // Gossipsub scores only topics that have weights; without them a rejection would cost the sender nothing.
    ;(pubsub as unknown as RouterInternals).score.params.topics[topic] = TOPIC_SCORE
    pubsub.subscribe(topic)
    const { credentials, journal } = this.c
    if (credentials === null) {
      this.joined.set(topic, { room: null, outlet: null })
      this.log.info('topic joined', { topic })
      return
    }
    const outlet = new MeshOutlet({
      topic,
      ready: () => {
        const { streamsOutbound } = pubsub as unknown as RouterInternals
        return pubsub.getSubscribers(topic).some((peer) => streamsOutbound.has(peer.toString()))
      },
      publish: (envelope) => this.toMesh(envelope),
      handled: (cursor) => journal?.handled(topic, cursor),
      log: this.log,
    })
    const room = new EdgeTopic(
      { credentials, log: this.log, ...(journal ? { journal } : {}) },
      {
        topic,
        onEnvelope: (envelope, cursor) => this.fromEdge(outlet, envelope, cursor),
        onLive: (cursor) => outlet.push(cursor, null),
        ...(this.init.edgeInitialDelayMs !== undefined ? { initialDelayMs: this.init.edgeInitialDelayMs } : {}),
        ...(this.init.edgeMaxDelayMs !== undefined ? { maxDelayMs: this.init.edgeMaxDelayMs } : {}),
      },
    )
    this.joined.set(topic, { room, outlet })
    room.start()
    this.log.info('topic joined', { topic, resumeAfter: journal?.cursor(topic) ?? null })
  }

  private maybeJoin(topic: string): void {
    if (this.joined.has(topic) || this.joined.size >= (this.init.maxTopics ?? 256)) return
    if (this.init.topics.some((pattern) => pattern.endsWith('*') && topicMatches(pattern, topic))) this.join(topic)
  }

  private async validate(_peer: PeerId, message: Message): Promise<TopicValidatorResult> {
    try {
      await validateEnvelopeAsync(decodeEnvelope(message.data), { topic: message.topic })
      return TopicValidatorResult.Accept
    } catch {
      this.c.metrics?.messagesRejected.inc()
      return TopicValidatorResult.Reject
    }
  }

  /** A message Gossipsub accepted: on to the edge, once. */
  private fromMesh(message: Message): void {
    const joined = this.joined.get(message.topic)
    if (joined === undefined) return
    this.c.metrics?.messagesIn.inc({ side: 'mesh' })
    const envelope = decodeEnvelope(message.data)
    const id = messageId(envelope)
    if (!this.seen.add(id)) {
      this.c.metrics?.duplicatesDropped.inc()
      return
    }
    if (joined.room === null) return
    joined.room.publish(envelope, id)
    this.c.metrics?.messagesOut.inc({ side: 'edge' })
  }

  /** A message from an edge room: on to the mesh, once, through the topic's outlet (a copy only moves its cursor). */
  private fromEdge(outlet: MeshOutlet, envelope: TopicEnvelope, cursor: number): void {
    this.c.metrics?.messagesIn.inc({ side: 'edge' })
    const fresh = this.seen.add(messageId(envelope))
    if (!fresh) this.c.metrics?.duplicatesDropped.inc()
    outlet.push(cursor, fresh ? envelope : null)
  }

  private async toMesh(envelope: TopicEnvelope): Promise<void> {
    try {
      await this.pubsub.publish(envelope.topic, encodeEnvelope(envelope))
      this.c.metrics?.messagesOut.inc({ side: 'mesh' })
    } catch (error) {
      this.log.warn('gossipsub publish failed', { topic: envelope.topic, error: (error as Error).message })
    }
  }
}
