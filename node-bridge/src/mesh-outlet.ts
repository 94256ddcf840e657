/**
 * One topic's messages from the edge on their way into Gossipsub, in
 * cursor order, and the cursor up to which they are handled.
 *
 * Gossipsub takes a publish whether or not a peer will receive it, and puts
 * the message in its seen cache either way, so the same message published
 * again later is dropped as a copy. The outlet therefore hands a message
 * over only while a peer that subscribes to the topic has an open Gossipsub
 * stream from this node (`ready`); until then messages wait, in order. That
 * is what a restarted bridge needs: it resumes from its cursor at once, and
 * its mesh peers come back seconds later. At most `maxWaiting` messages
 * wait; past that the oldest is dropped (logged), and the cursor passes it.
 *
 * A message counts as handled once Gossipsub has taken it; positions with
 * nothing to hand over (a copy already forwarded, the room's `live`) count
 * once everything before them has. `handled` reports each such cursor, in
 * order, for the journal (`topic-journal.ts`).
 *
 * @example
 * ```ts
 * const outlet = new MeshOutlet({ topic, ready, publish, handled: (c) => journal.handled(topic, c) })
 * outlet.push(7, envelope)
 * outlet.drain() // again when a subscriber arrives
 * ```
 */
import type { TopicEnvelope } from '@vivim/shared'
import { type Logger, silentLogger } from './log.ts'

/** What the outlet hands messages to, and whom it tells. */
export interface MeshOutletInit {
  topic: string
  /** Whether a subscribed mesh peer can be sent to now. */
  ready: () => boolean
  /** Hands an envelope to Gossipsub; resolves once it is taken (failures are the caller's to log). */
  publish: (envelope: TopicEnvelope) => Promise<void>
  /** Every message up to `cursor` is handled. */
  handled: (cursor: number) => void
  /** Most messages waiting for a mesh peer. */
  maxWaiting?: number
  log?: Logger
}

interface Item {
  readonly cursor: number
  envelope: TopicEnvelope | null
}

/** The edge's messages of one topic into Gossipsub, in order, waiting while no subscribed peer can be sent to. */
export class MeshOutlet {
  private readonly init: MeshOutletInit
  private readonly log: Logger
  private readonly items: Item[] = []
  private waitingCount = 0
  private draining = false
  private dropping = false
  private stopped = false

  constructor(init: MeshOutletInit) {
    this.init = init
    this.log = init.log ?? silentLogger
  }

  /** Messages waiting for a mesh peer. */
  get waiting(): number {
    return this.waitingCount
  }

  /** The message at `cursor`, or `null` for a position with nothing to hand over. */
  push(cursor: number, envelope: TopicEnvelope | null): void {
    if (this.stopped) return
    const last = this.items.at(-1)
    if (envelope === null) {
      if (last === undefined) {
        this.init.handled(cursor)
        return
      }
      // Only the last position counts: anything after it has a later cursor.
      if (last.envelope === null && !(this.draining && this.items.length === 1)) this.items.pop()
    }
    this.items.push({ cursor, envelope })
    if (envelope !== null && ++this.waitingCount > (this.init.maxWaiting ?? 1_000)) this.dropOldest()
    void this.drain()
  }

  /** Hands over what waits, in order, while a subscribed peer can be sent to. */
  async drain(): Promise<void> {
    if (this.draining) return
    this.draining = true
    try {
      while (this.items.length > 0 && !this.stopped) {
        const item = this.items[0] as Item
        if (item.envelope !== null) {
          if (!this.init.ready()) return
          await this.init.publish(item.envelope)
          this.dropping = false
        }
        this.items.shift()
        if (item.envelope !== null) this.waitingCount--
        this.init.handled(item.cursor)
      }
    } finally {
      this.draining = false
    }
  }

  /** Drops what waits; nothing is handed over after this. */
  stop(): void {
    this.stopped = true
    this.items.length = 0
    this.waitingCount = 0
  }

  private dropOldest(): void {
    // The first item may be on its way already.
    const victim = this.items.find((item, i) => item.envelope !== null && !(this.draining && i === 0))
    if (!victim) return
    victim.envelope = null
    this.waitingCount--
    if (this.dropping) return
    this.dropping = true
    this.log.warn('edge messages dropped: no mesh peer subscribes to the topic', {
      topic: this.init.topic,
      waiting: this.waitingCount,
    })
  }
}
