/**
 * The soak's topics: a pool of `public:` topics, each created by its owner's
 * subscription (an identity, kept for the whole run) and published to by
 * that owner over HTTP, and anonymous subscribers (development mode reads
 * public topics without a credential) that join and leave them.
 *
 * A message carries the time it was published; a subscriber times its
 * arrival against it. Subscribers start at the topic's live end (no resume
 * cursor), so they see only messages published while they are there.
 */
import { generateIdentity } from '@vivim/shared'
import type { TopicMessage } from '../../client/src/topic-client.ts'
import { VivimClient } from '../../client/src/vivim-client.ts'
import { sleep } from '../lib/child-process.ts'
import type { Meter } from './meter.ts'

/** How long the topics' first publishes may keep failing while their owners' subscriptions create them. */
const CREATE_GUARD_MS = 60_000

/** How the topics are set up. */
export interface TopicChurnInit {
  /** The edge, `http://host:port`. */
  readonly edge: string
  /** Names the topics apart from any earlier run's. */
  readonly runId: string
  readonly topics: number
  readonly subscribers: number
}

interface Owner {
  readonly topic: string
  readonly client: VivimClient
  readonly stop: () => void
}

/** The topics, their owners and their subscribers; `run.ts`'s timers drive `publish` and `churn`. */
export class TopicChurn {
  private readonly owners: Owner[] = []
  /** The subscribers' subscriptions; `left` once stopped, after which their errors are not theirs to count. */
  private readonly subscriptions: { stop: () => void; left: boolean }[] = []
  private readonly reader: VivimClient
  private readonly WebSocket: typeof WebSocket
  private readonly init: TopicChurnInit
  private readonly meter: Meter
  private next = 0

  constructor(init: TopicChurnInit, meter: Meter) {
    this.init = init
    this.meter = meter
    this.reader = new VivimClient({ edge: init.edge })
    this.WebSocket = meter.countingWebSocket('topics')
  }

  /** Subscribes each topic's owner (which creates the topic) and waits until a publish to each is taken. */
  async create(): Promise<void> {
    for (let i = 0; i < this.init.topics; i++) {
      const topic = `public:soak:${this.init.runId}:${i}`
      const client = new VivimClient({ edge: this.init.edge, identity: generateIdentity() })
      const stop = client.subscribe(topic, () => {}, {
        WebSocket: this.WebSocket,
        onError: (error) => this.meter.error('owner subscription', error),
      })
      this.owners.push({ topic, client, stop })
    }
    const deadline = Date.now() + CREATE_GUARD_MS
    await Promise.all(
      this.owners.map(async ({ topic, client }) => {
        for (;;) {
          try {
            return void (await client.publish(topic, JSON.stringify({ t: performance.now() })))
          } catch (error) {
            if (Date.now() > deadline) throw new Error(`${topic} was not created: ${(error as Error).message}`)
            await sleep(200)
          }
        }
      }),
    )
  }

  /** Subscribers now connected or connecting. */
  get size(): number {
    return this.subscriptions.length
  }

  /** Subscribes until `subscribers` are in the pool, each to a random topic. */
  fill(): void {
    while (this.subscriptions.length < this.init.subscribers) {
      const { topic } = this.owners[Math.floor(Math.random() * this.owners.length)] as Owner
      const subscription = { stop: () => {}, left: false }
      subscription.stop = this.reader.subscribe(topic, (m) => this.received(m), {
        WebSocket: this.WebSocket,
        // The SDK reports a socket it was told to close before it opened as failed to connect.
        onError: (error) => (subscription.left ? undefined : this.meter.error('topic subscription', error)),
      })
      this.subscriptions.push(subscription)
      this.meter.count('topic joins')
    }
  }

  private received(message: TopicMessage): void {
    const { t } = JSON.parse(message.text()) as { t: number }
    this.meter.latency('topic', performance.now() - t)
    this.meter.count('topic deliveries')
  }

  /** `pct`% of the subscribers (at least one when pct > 0) unsubscribe, and as many subscribe. */
  churn(pct: number): void {
    const replaced = pct === 0 ? 0 : Math.max(1, Math.round((this.subscriptions.length * pct) / 100))
    for (let i = 0; i < replaced && this.subscriptions.length > 0; i++) {
      const [subscription] = this.subscriptions.splice(Math.floor(Math.random() * this.subscriptions.length), 1)
      if (subscription !== undefined) this.leave(subscription)
      this.meter.count('topic leaves')
    }
    this.fill()
  }

  private leave(subscription: { stop: () => void; left: boolean }): void {
    subscription.left = true
    subscription.stop()
  }

  /** Publishes the time now to the next topic in turn, as its owner. */
  async publish(): Promise<void> {
    const owner = this.owners[this.next++ % this.owners.length] as Owner
    await owner.client.publish(owner.topic, JSON.stringify({ t: performance.now() }))
    this.meter.count('publishes')
  }

  /** Unsubscribes everyone, owners last. */
  stop(): void {
    for (const subscription of this.subscriptions.splice(0)) this.leave(subscription)
    for (const owner of this.owners.splice(0)) owner.stop()
  }
}
