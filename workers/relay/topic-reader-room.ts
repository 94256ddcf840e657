/**
 * `TopicReaderRoom`, what both kinds of topic object do for the sockets they
 * hold: the topic's room (`topic-room.ts`), which also verifies and stores
 * every message, and its fan-out objects (`topic-fanout.ts`), which serve the
 * subscribers past the room's own share. Whichever object a socket landed
 * on, it is held to the same rules, so the code is one:
 *
 *   delivery       stored messages in cursor order, one frame per run
 *                  (`topic-batch.ts`); a reader is sent only what follows the
 *                  last cursor sent to it, so no message reaches it twice;
 *   back-pressure  a reader that a frame would leave more than
 *                  `Limits.maxTopicUnacked` messages unacknowledged is closed
 *                  with 4430 instead (`topic-flows.ts`);
 *   acks           one that moves the reader forward is free of the frame
 *                  budget; any other frame pays;
 *   publishes      checked against the socket's grant, its rate
 *                  (`topic-publishers.ts`) and readers far behind, then
 *                  published where the store is (`publishFrom`); a socket
 *                  that keeps publishing past its refusals is closed with 4429;
 *   replay         `gap` when the resume point is gone, what the subscriber
 *                  missed, then `live`.
 */
import {
  CloseCode,
  decodeTopicClientFrame,
  type EncodedMessage,
  ErrorCode,
  encodeMessageFrame,
  encodeTopicFrame,
  Limits,
  publishedEnvelopeBytes,
  type TopicClientFrame,
  type TopicEnvelope,
  TopicFrameType,
  VivimError,
} from '@vivim/shared'
import { Room } from './room.ts'
import { socketState } from './socket-state.ts'
import { type BatchFrame, batchAfter } from './topic-batch.ts'
import { TopicFlows } from './topic-flows.ts'
import { TopicPublishers } from './topic-publishers.ts'
import type { ReplayPlan } from './topic-store.ts'

/** Why a publish waits when a reader is far behind (`TopicFlows.holdsBack`). */
export const READERS_BEHIND = `a reader of this topic is ${Limits.maxTopicReaderLag} messages behind; publish again shortly`

/** The canonical encoding of `{ t: "ack", c }` is at most 18 bytes (a 9-byte cursor). */
const MAX_ACK_BYTES = 24

export interface PublishResult {
  readonly id: string
  readonly cursor: number
  readonly duplicate: boolean
}

export abstract class TopicReaderRoom extends Room<TopicClientFrame> {
  protected readonly frameName = 'topic frame'
  protected readonly flows = new TopicFlows()
  protected readonly publishers = new TopicPublishers()

  /**
   * The cursor a reader whose flow is unknown (after hibernation) is level with: nothing was in
   * flight while the object slept. Null while the object cannot know it (a fan-out object just
   * woken, before its next delivery); then such a reader's acks move nothing.
   */
  protected abstract latest(): number | null

  /** Whether every publish must wait now, because a reader somewhere is far behind. */
  protected abstract holdsBack(now: number): boolean

  /** Stores a socket's checked message where the topic's store is; resolves once it is stored and handed on. */
  protected abstract publishFrom(envelope: TopicEnvelope, encoded: Uint8Array): Promise<PublishResult>

  /** An ack's bookkeeping is done (a fan-out object tells its room when its readers stop holding publishes). */
  protected acked(_ws: WebSocket, _now: number): void {}

  protected override decode(bytes: Uint8Array): TopicClientFrame {
    return decodeTopicClientFrame(bytes)
  }

  /** Only an ack may be free, so anything longer than the longest ack pays before it is decoded. */
  protected override mayBeFree(bytes: Uint8Array): boolean {
    return bytes.byteLength <= MAX_ACK_BYTES
  }

  /**
   * An ack that moves the socket's acknowledged cursor forward is free, so a
   * reader that acknowledges every message of a busy topic is never closed
   * for it. An ack that moves nothing counts like any frame, so ack spam
   * stays bounded.
   */
  protected override isFree(ws: WebSocket, frame: TopicClientFrame): boolean {
    const latest = this.flowLatest(ws)
    return frame.t === TopicFrameType.Ack && latest !== null && this.flows.advances(ws, frame.c, latest)
  }

  /** What a reader's flow starts from if it has none yet, or null when it must wait for the next delivery. */
  private flowLatest(ws: WebSocket): number | null {
    return this.latest() ?? (this.flows.has(ws) ? 0 : null)
  }

  protected override onFrame(ws: WebSocket, frame: TopicClientFrame, bytes: Uint8Array): void {
    if (frame.t === TopicFrameType.Ack) {
      const latest = this.flowLatest(ws)
      if (latest === null) return
      const now = Date.now()
      this.flows.ack(ws, frame.c, latest, now)
      this.acked(ws, now)
      return
    }
    try {
      if (!socketState(ws).canWrite) throw new VivimError(ErrorCode.Forbidden, 'this credential may not publish here')
      const refusal = this.holdsBack(Date.now()) ? READERS_BEHIND : this.publishers.admitSocket(ws)
      if (refusal !== null) {
        this.refuse(ws, refusal)
        return
      }
      // The envelope's bytes are cut from the frame, not encoded again (`topic-encoded.ts`).
      this.publishFrom(frame.e, publishedEnvelopeBytes(bytes)).then(
        (result) => {
          const ok = encodeTopicFrame({ t: TopicFrameType.Ok, id: result.id, c: result.cursor, dup: result.duplicate })
          this.sockets.send(ws, ok)
        },
        (error) => {
          // Only readers far behind refuse a publish once it is on its way (a fan-out object learns it from its room).
          if (error instanceof VivimError && error.code === ErrorCode.RateLimited) this.refuse(ws, error.message)
          else this.sendError(ws, error)
        },
      )
    } catch (error) {
      this.sendError(ws, error)
    }
  }

  /** A refused publish counts against the socket's refusals: past them it is closed with 4429. */
  private refuse(ws: WebSocket, refusal: string): void {
    if (!this.publishers.refused(ws)) {
      this.sockets.reject(ws, CloseCode.RateLimited, 'kept publishing past its publish rate')
      return
    }
    this.sendError(ws, new VivimError(ErrorCode.RateLimited, refusal))
  }

  private sendError(ws: WebSocket, error: unknown): void {
    if (!(error instanceof VivimError)) throw error
    this.sockets.send(ws, encodeTopicFrame({ t: TopicFrameType.Error, code: error.code, message: error.message }))
  }

  /** The first frames of a replay: `gap` when the resume point is gone, then the messages given. */
  protected replayTo(ws: WebSocket, plan: ReplayPlan, messages: readonly EncodedMessage[]): void {
    if (plan.gap !== null) this.sockets.send(ws, encodeTopicFrame({ t: TopicFrameType.Gap, ...plan.gap }))
    this.replayMore(ws, messages)
  }

  /** More messages of a replay, one `msg` frame each. */
  protected replayMore(ws: WebSocket, messages: readonly EncodedMessage[]): void {
    for (const m of messages) this.sockets.send(ws, encodeMessageFrame(m))
  }

  /** The replay is sent: `live`, and the reader's flow starts where its replay began. */
  protected goLive(ws: WebSocket, plan: ReplayPlan): void {
    this.flows.start(ws, plan.latest, Math.max(plan.from, 0), Date.now())
    this.sockets.send(ws, encodeTopicFrame({ t: TopicFrameType.Live, c: plan.latest }))
  }

  /**
   * Sends a flush's frames (in cursor order) to every reader but `except`, each from the cursor
   * after the last one sent to it, so a reader whose replay went past the start of a frame gets
   * only the rest of it. Back-pressure counts messages, not frames: a reader a frame would leave
   * more than `Limits.maxTopicUnacked` messages unacknowledged is closed instead.
   */
  protected fanOut(
    readers: readonly WebSocket[],
    frames: readonly BatchFrame[],
    now: number,
    except: WebSocket | null = null,
  ): void {
    for (const ws of readers) {
      if (ws === except || !this.sockets.serves(ws)) continue
      for (const batch of frames) {
        const { sent } = this.flows.get(ws, batch.first - 1)
        if (sent >= batch.last) continue
        if (!this.sendFrame(ws, sent < batch.first ? batch : batchAfter(batch, sent), now)) break
      }
    }
  }

  private sendFrame(ws: WebSocket, { first, last, frame }: BatchFrame, now: number): boolean {
    if (last - this.flows.get(ws, first - 1).acked > Limits.maxTopicUnacked) {
      this.sockets.reject(ws, CloseCode.TooSlow, `more than ${Limits.maxTopicUnacked} messages unacknowledged`)
      return false
    }
    this.sockets.send(ws, frame)
    this.flows.sent(ws, last, now)
    return true
  }

  /** A socket is gone or refused: it no longer holds publishers back. */
  protected override onLeave(ws: WebSocket): void {
    this.flows.forget(ws)
  }
}
