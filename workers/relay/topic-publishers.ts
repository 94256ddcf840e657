/**
 * How fast one publisher may publish to a topic room: a socket, or one
 * identity over HTTP (all DID-less development-mode requests of a room share
 * one key, since nothing else about them is stable).
 *
 * Why a time-refilled bucket is not enough: the runtime's clock only moves
 * between events, so `Date.now()` in an event is the time the room reached
 * the frame, not the time it was sent. Frames a socket sends back to back
 * wait in the room's queue; while the room works through them, time passes,
 * and the bucket refills by exactly that time. A room that needs 20 ms per
 * publish (a signature check and a fan-out to many sockets) refills 50/s
 * as fast as it drains, so a backlog of any length goes through, and its
 * readers' acknowledgements wait in the queue behind it until they are all
 * dropped as too slow.
 *
 * So each publisher also has a window of `Limits.maxTopicPublishesInFlight` stored
 * messages still in flight, and a publish past it is refused whatever the
 * time:
 *
 * - A socket's messages are in flight until that socket acknowledges them.
 *   Every socket receives its own messages as `msg` and acknowledges cursors
 *   like any reader (the SDK and the bridge do), and a socket's frames reach
 *   the room in the order they were sent, so no acknowledgement can overtake
 *   the backlog it would release: one socket's backlog stores at most the
 *   window, however slowly the room drains it and however the runtime
 *   interleaves other sockets. Past the window the publisher pays a network
 *   round trip per window, like its readers.
 * - An HTTP publisher has no acknowledgements of its own; its messages are in
 *   flight until some reader acknowledges them (`TopicFlows.horizon`), so a
 *   backlog of requests stores at most the window while the readers' acks
 *   wait behind it. With no reader holding the room back, nobody can be
 *   dropped and only the rate applies.
 *
 * The time bucket (`Limits.maxTopicPublishesPerSecond`) still sets the
 * sustained rate of a publisher that waits. A socket that keeps publishing
 * after refusals is closed with 4429 once its refusals exceed the same rate
 * and burst.
 */
import { Limits } from '@vivim/shared'
import { FrameBudget } from './socket-state.ts'

interface Publisher {
  readonly rate: FrameBudget
  /** Cursors of this publisher's stored messages still in flight, oldest first; at most the window. */
  readonly inFlight: number[]
}

interface SocketPublisher extends Publisher {
  /** Refusals a socket may draw before it is closed. */
  readonly refusals: FrameBudget
}

/** Publishers over HTTP remembered at once; the oldest is forgotten past it (it starts afresh). */
const MAX_HTTP_PUBLISHERS = 10_000

/** The key of DID-less (development-mode) HTTP publishers. */
export const ANONYMOUS_PUBLISHER = 'anonymous'

const newPublisher = (): Publisher => ({
  rate: new FrameBudget(Limits.maxTopicPublishesPerSecond, Limits.topicPublishBurst),
  inFlight: [],
})

export class TopicPublishers {
  private readonly sockets = new WeakMap<WebSocket, SocketPublisher>()
  private readonly http = new Map<string, Publisher>()

  /** Why the socket may not publish now (its acknowledged cursor is `acked`), or null when it may. */
  admitSocket(ws: WebSocket, acked: number): string | null {
    return admit(this.socket(ws), acked)
  }

  /** Why the HTTP publisher `key` may not publish now (readers got to `horizon`), or null when it may. */
  admitHttp(key: string, horizon: number): string | null {
    return admit(this.httpPublisher(key), horizon)
  }

  /** The socket's publish at `cursor` was stored. */
  storedBySocket(ws: WebSocket, cursor: number): void {
    this.socket(ws).inFlight.push(cursor)
  }

  /** The HTTP publisher's message at `cursor` was stored. */
  storedByHttp(key: string, cursor: number): void {
    this.httpPublisher(key).inFlight.push(cursor)
  }

  /** Counts a refusal against the socket; false once it has drawn too many and must be closed. */
  refused(ws: WebSocket): boolean {
    return this.socket(ws).refusals.take()
  }

  private socket(ws: WebSocket): SocketPublisher {
    let publisher = this.sockets.get(ws)
    if (!publisher) {
      publisher = {
        ...newPublisher(),
        refusals: new FrameBudget(Limits.maxTopicPublishesPerSecond, Limits.topicPublishBurst),
      }
      this.sockets.set(ws, publisher)
    }
    return publisher
  }

  private httpPublisher(key: string): Publisher {
    let publisher = this.http.get(key)
    if (publisher) {
      // Most recently used last, so the one forgotten is the one idle longest.
      this.http.delete(key)
    } else {
      publisher = newPublisher()
      if (this.http.size >= MAX_HTTP_PUBLISHERS) this.http.delete(this.http.keys().next().value as string)
    }
    this.http.set(key, publisher)
    return publisher
  }
}

function admit(publisher: Publisher, settled: number): string | null {
  const { inFlight } = publisher
  while (inFlight.length > 0 && (inFlight[0] as number) <= settled) inFlight.shift()
  if (inFlight.length >= Limits.maxTopicPublishesInFlight) {
    return `${Limits.maxTopicPublishesInFlight} messages published here are not yet acknowledged; wait for them`
  }
  if (!publisher.rate.take()) {
    return `more than ${Limits.maxTopicPublishesPerSecond} publishes a second (bursts of ${Limits.topicPublishBurst})`
  }
  return null
}
