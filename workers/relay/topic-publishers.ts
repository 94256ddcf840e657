/**
 * How fast one publisher may publish to a topic room: a socket, or one
 * identity over HTTP (all DID-less development-mode requests of a room share
 * one key, since nothing else about them is stable). A publisher may publish
 * `Limits.maxTopicPublishesPerSecond`, in bursts of
 * `Limits.topicPublishBurst`; a socket that keeps publishing after its
 * refusals (counted against the same rate and burst) is closed with 4429.
 *
 * The rate alone cannot protect readers from a backlog: the runtime's clock
 * only moves between events, so `Date.now()` in an event is when the room
 * reached the frame, not when it was sent, and a bucket refills by exactly
 * the time the room spends working through a backlog. What protects readers
 * is `TopicFlows.holdsBack`: every publish waits while a reader that still
 * acknowledges is far behind, whoever sent it.
 */
import { Limits } from '@vivim/shared'
import type { Access } from '../http/access.ts'
import { FrameBudget } from './socket-state.ts'

interface Publisher {
  readonly rate: FrameBudget
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
})

export class TopicPublishers {
  private readonly sockets = new WeakMap<WebSocket, SocketPublisher>()
  private readonly http = new Map<string, Publisher>()

  /** Why the socket may not publish now, or null when it may. */
  admitSocket(ws: WebSocket): string | null {
    return admit(this.socket(ws))
  }

  /** Why the HTTP publisher `key` may not publish now, or null when it may. */
  admitHttp(key: string): string | null {
    return admit(this.httpPublisher(key))
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

function admit(publisher: Publisher): string | null {
  if (publisher.rate.take()) return null
  return `more than ${Limits.maxTopicPublishesPerSecond} publishes a second (bursts of ${Limits.topicPublishBurst})`
}

/**
 * Whom an HTTP publish is counted against: its DID; in development mode,
 * one key for every DID-less request of the room (nothing else about them
 * is stable). Outside development every request from a user names a DID,
 * so a DID-less one is federation's inbox handing on a peer's message: it
 * is not throttled here (null), since the inbox hands on one message at a
 * time per peer and awaits each, so it cannot build a backlog, and a
 * refusal would drop the message for good.
 */
export function httpPublisherKey(access: Access, env: Env): string | null {
  if (access.did !== null) return access.did
  return env.VIVIM_ENV === 'development' ? ANONYMOUS_PUBLISHER : null
}
