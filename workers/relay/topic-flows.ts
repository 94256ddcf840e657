/**
 * What a topic room knows of each socket's reading: the last cursor sent to
 * it and the last it acknowledged. Back-pressure drops a socket that falls
 * `Limits.maxTopicUnacked` behind; the same numbers tell a socket publisher
 * how many of its own messages it has yet to read (`topic-publishers.ts`)
 * and tell HTTP publishers how far the room's readers have got (`horizon`).
 * In memory only: after hibernation a socket starts level with the room,
 * since nothing was in flight while the room slept.
 */
import { Limits } from '@vivim/shared'

interface Flow {
  /** The last cursor sent to the socket. */
  sent: number
  /** The last cursor the socket acknowledged (or the latest when it joined). */
  acked: number
  /** When the socket last fell `Limits.maxTopicPublishesInFlight` or more behind; null while it is not. */
  behindSince: number | null
}

/**
 * How long a reader that is `Limits.maxTopicPublishesInFlight` or more messages
 * behind may go without acknowledging before it stops holding HTTP publishers
 * back: a reader that never acknowledges (an old client, or one on purpose)
 * would otherwise stop every HTTP publisher of a quiet topic for good. It is
 * then judged by `Limits.maxTopicUnacked` alone, like every reader.
 */
export const ACK_GRACE_MS = 10_000

export class TopicFlows {
  private readonly flows = new WeakMap<WebSocket, Flow>()

  /** Starts a socket's flow: `sent` is the latest cursor, `acked` where its replay began. */
  start(ws: WebSocket, sent: number, acked: number, now: number): void {
    this.flows.set(ws, { sent, acked, behindSince: null })
    this.markBehind(this.get(ws, sent), now)
  }

  /** A socket's flow; after hibernation it starts level with the room (`latest`). */
  get(ws: WebSocket, latest: number): Flow {
    let flow = this.flows.get(ws)
    if (!flow) {
      flow = { sent: latest, acked: latest, behindSince: null }
      this.flows.set(ws, flow)
    }
    return flow
  }

  /** Whether an ack of cursor `c` would move the socket's acknowledged cursor forward. */
  advances(ws: WebSocket, c: number, latest: number): boolean {
    const flow = this.get(ws, latest)
    return Math.min(flow.sent, c) > flow.acked
  }

  /** Records an ack; returns the socket's acknowledged cursor. */
  ack(ws: WebSocket, c: number, latest: number): number {
    const flow = this.get(ws, latest)
    flow.acked = Math.min(flow.sent, Math.max(flow.acked, c))
    if (flow.sent - flow.acked < Limits.maxTopicPublishesInFlight) flow.behindSince = null
    return flow.acked
  }

  /** Records that `cursor` was sent to the socket. */
  sent(ws: WebSocket, cursor: number, now: number): void {
    const flow = this.get(ws, cursor - 1)
    flow.sent = cursor
    this.markBehind(flow, now)
  }

  /**
   * The cursor every HTTP publisher's window is measured from: the furthest
   * any reader has acknowledged (a reader level with the room counts as
   * having read everything), or the latest cursor when no reader holds it
   * back. A reader behind for longer than `ACK_GRACE_MS` is left out.
   */
  horizon(sockets: Iterable<WebSocket>, latest: number, now: number): number {
    let horizon = -1
    for (const ws of sockets) {
      const flow = this.get(ws, latest)
      if (flow.behindSince !== null && now - flow.behindSince > ACK_GRACE_MS) continue
      horizon = Math.max(horizon, flow.acked)
    }
    return horizon === -1 ? latest : horizon
  }

  private markBehind(flow: Flow, now: number): void {
    if (flow.behindSince === null && flow.sent - flow.acked >= Limits.maxTopicPublishesInFlight) flow.behindSince = now
  }
}
