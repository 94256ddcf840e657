/**
 * What a topic room knows of each reader: the last cursor sent to it and the
 * last it acknowledged. Back-pressure drops a reader that falls
 * `Limits.maxTopicUnacked` behind. So that no publisher can push anyone
 * there, publishes wait while any reader that still acknowledges is
 * `Limits.maxTopicReaderLag` behind (`holdsBack`): a flood whose backlog
 * keeps the readers' acknowledgements queued behind it trips this long
 * before back-pressure, whoever sends it and however it acknowledges its own
 * messages (an ack is capped at what was sent, not what was received, so a
 * publisher's own acks prove nothing).
 *
 * A reader that lags that far for `ACK_GRACE_MS` without catching up is
 * excused: it stops holding publishers back and is judged by back-pressure
 * alone, so one reader that never acknowledges cannot stop a topic.
 *
 * A reader is a socket, or, in a room that spreads its subscribers, a
 * fan-out object the room sends each flush to (`topic-fanouts.ts`): one that
 * lags as far holds publishers back the same way, and is excused the same way.
 *
 * State: in the room's memory only (a WeakMap per reader and a set of the
 * lagging ones); after hibernation a reader starts level with the room,
 * since nothing was in flight while the room slept.
 */
import { Limits } from '@vivim/shared'

interface Flow {
  /** The last cursor sent to the socket. */
  sent: number
  /** The last cursor the socket acknowledged (or where its replay began). */
  acked: number
  /** Since when it has lagged `Limits.maxTopicReaderLag` or more; null while it does not. */
  laggingSince: number | null
}

/** How long a lagging reader holds publishers back before it is excused. */
export const ACK_GRACE_MS = 5_000

export class TopicFlows<Reader extends WeakKey = WebSocket> {
  private readonly flows = new WeakMap<Reader, Flow>()
  /** Readers lagging now and not yet excused. */
  private readonly lagging = new Set<Reader>()

  /** Starts a reader's flow: `sent` is the latest cursor, `acked` where its replay began. */
  start(reader: Reader, sent: number, acked: number, now: number): void {
    const flow: Flow = { sent, acked, laggingSince: null }
    this.flows.set(reader, flow)
    this.update(reader, flow, now)
  }

  /** A reader's flow; after hibernation it starts level with the room (`latest`). */
  get(reader: Reader, latest: number): Flow {
    let flow = this.flows.get(reader)
    if (!flow) {
      flow = { sent: latest, acked: latest, laggingSince: null }
      this.flows.set(reader, flow)
    }
    return flow
  }

  /** Whether the reader has a flow (one started, sent to or acknowledged since the object started). */
  has(reader: Reader): boolean {
    return this.flows.has(reader)
  }

  /** Whether an ack of cursor `c` would move the reader's acknowledged cursor forward. */
  advances(reader: Reader, c: number, latest: number): boolean {
    const flow = this.get(reader, latest)
    return Math.min(flow.sent, c) > flow.acked
  }

  /** Records an ack of cursor `c`. */
  ack(reader: Reader, c: number, latest: number, now: number): void {
    const flow = this.get(reader, latest)
    flow.acked = Math.min(flow.sent, Math.max(flow.acked, c))
    this.update(reader, flow, now)
  }

  /** Records that `cursor` was sent to the reader. */
  sent(reader: Reader, cursor: number, now: number): void {
    const flow = this.get(reader, cursor - 1)
    flow.sent = cursor
    this.update(reader, flow, now)
  }

  /** The reader is gone. */
  forget(reader: Reader): void {
    this.lagging.delete(reader)
  }

  /** Whether a reader that still acknowledges is too far behind for anyone to publish now. */
  holdsBack(now: number): boolean {
    for (const reader of this.lagging) {
      const since = this.flows.get(reader)?.laggingSince
      // Excused: it stays out of `lagging` until it catches up and falls behind again.
      if (since == null || now - since > ACK_GRACE_MS) this.lagging.delete(reader)
    }
    return this.lagging.size > 0
  }

  private update(reader: Reader, flow: Flow, now: number): void {
    if (flow.sent - flow.acked < Limits.maxTopicReaderLag) {
      flow.laggingSince = null
      this.lagging.delete(reader)
    } else if (flow.laggingSince === null) {
      flow.laggingSince = now
      this.lagging.add(reader)
    }
  }
}
