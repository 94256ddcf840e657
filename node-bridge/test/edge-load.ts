/**
 * Load at the edge for the crash test: one author publishes signed
 * envelopes to a topic over HTTP, one after another at a seeded pace, and
 * keeps the id of every message the edge answered 2xx for.
 */
import { createEnvelope, identityFromSecretKey, messageId } from '@vivim/shared'
import { publishAtEdge } from './edge-client.ts'

/** A small seeded generator (a linear congruential one), so a run's pace and kill point repeat. */
export function seededInts(seed: number): (below: number) => number {
  let state = seed >>> 0
  return (below) => {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0
    return (state >>> 16) % below
  }
}

/** Publishes at the edge until stopped; `ids` are the messages the edge stored, in order. */
export class EdgeLoad {
  readonly ids: string[] = []
  private readonly edgeUrl: string
  private readonly topic: string
  private readonly next: (below: number) => number
  private readonly author
  private running: Promise<void> | null = null
  private stopped = false
  private failure: Error | null = null

  constructor(edgeUrl: string, topic: string, seed: number) {
    this.edgeUrl = edgeUrl
    this.topic = topic
    this.next = seededInts(seed)
    this.author = identityFromSecretKey(new Uint8Array(32).fill(seed))
  }

  /** How many messages the edge has stored; throws once a publish has failed, so a wait on it ends. */
  get count(): number {
    if (this.failure) throw this.failure
    return this.ids.length
  }

  /** Publishes one message and waits for the edge's answer. */
  async publishOne(): Promise<void> {
    const text = `message ${this.ids.length} of ${this.topic}`
    const envelope = createEnvelope(this.author, { topic: this.topic, payload: new TextEncoder().encode(text) })
    await publishAtEdge(this.edgeUrl, envelope)
    this.ids.push(messageId(envelope))
  }

  /** Publishes until `stop`, a seeded 1-8 ms apart. */
  start(): void {
    this.running ??= (async () => {
      while (!this.stopped) {
        await this.publishOne()
        await new Promise((r) => setTimeout(r, 1 + this.next(8)))
      }
    })().catch((error: Error) => {
      this.failure = error
    })
  }

  /** Stops, once the message on its way is answered; throws what a publish threw. */
  async stop(): Promise<void> {
    this.stopped = true
    await this.running
    if (this.failure) throw this.failure
  }
}
