/**
 * The sockets of a fan-out object (`topic-fanout.ts`) whose replay is still
 * being read from the topic's room, and the deliveries they must not miss.
 *
 * The room fixes where a replay ends (its latest cursor, right after a flush)
 * when it passes the subscriber on, but the history is read over RPC while
 * the room goes on delivering. So from the moment a replay starts until the
 * last one in progress ends, every delivery is kept here too; a replay that
 * ends is sent what was kept past its latest cursor, then joins the live
 * readers. Nothing is lost between the two and nothing is sent twice,
 * whichever arrives first.
 *
 * State: in memory, only while a replay is in progress (an RPC is pending,
 * so the object cannot hibernate): the frames delivered meanwhile, covering
 * at most `Limits.maxTopicUnacked` messages, the oldest dropped first. A
 * replay that would need a dropped one is further behind than back-pressure
 * allows, and its socket is closed with 4430.
 */
import { Limits } from '@vivim/shared'
import type { BatchFrame } from './topic-batch.ts'

export class FanoutReplays {
  private readonly replaying = new Set<WebSocket>()
  private kept: BatchFrame[] = []

  /** A socket's replay starts: deliveries are kept from now on. */
  begin(ws: WebSocket): void {
    this.replaying.add(ws)
  }

  /** Whether the socket's replay is in progress (false once it ended or the socket left). */
  has(ws: WebSocket): boolean {
    return this.replaying.has(ws)
  }

  /** Every socket whose replay is in progress. */
  sockets(): ReadonlySet<WebSocket> {
    return this.replaying
  }

  /** A delivery arrived: kept while any replay is in progress. */
  record(frames: readonly BatchFrame[]): void {
    if (this.replaying.size === 0) return
    // A delivery tried again after a failed answer repeats what may have arrived.
    const after = this.kept.at(-1)?.last ?? -1
    for (const f of frames) if (f.first > after) this.kept.push(f)
    const newest = this.kept.at(-1)?.last ?? 0
    while ((this.kept[0]?.first ?? newest) <= newest - Limits.maxTopicUnacked) this.kept.shift()
  }

  /** The socket's replay went up to `latest`: the frames delivered past it meanwhile, in order. */
  end(ws: WebSocket, latest: number): BatchFrame[] {
    const missed = this.kept.filter((f) => f.last > latest)
    this.forget(ws)
    return missed
  }

  /** The socket left, or its replay ended. */
  forget(ws: WebSocket): void {
    this.replaying.delete(ws)
    if (this.replaying.size === 0) this.kept = []
  }
}
