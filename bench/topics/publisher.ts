/**
 * The publisher: a few sockets on the topic, each sending pre-signed
 * `{ t: "pub", e }` frames in turn on the schedule, so no socket goes past
 * the room's limit of 500 frames a second (its own acks count too). Each
 * socket matches its `ok` (or `err`) frames to its publishes in order, which
 * gives the acknowledgement latency and the set of messages the room stored.
 * The room echoes every message to the publisher's sockets too; they ack
 * them like any subscriber, or the room would drop them as too slow.
 *
 * When the room falls behind, the publisher sheds: a due message is
 * skipped, not queued, while more publishes are unanswered than the room
 * answered in the last second (at least `MIN_IN_FLIGHT`), or while the
 * oldest unanswered one is over a second old. So the room's backlog stays
 * near a second of its own work and cannot spill into the next row, and
 * every message sent is sent on time. Shed messages are never published;
 * the report counts them.
 */
import WebSocket from 'ws'
import { decodeTopicServerFrame, encodeTopicFrame, TopicFrameType, topicMessagesOf } from '../../shared/src/index.ts'
import { sleep } from '../lib/child-process.ts'
import { type LatencySummary, summarize } from '../lib/stats.ts'
import { now } from '../lib/worker-pool.ts'
import { Published, scheduledAt } from './bench-protocol.ts'

const ACK_EVERY = 25
const SHED_AFTER_MS = 1_000
const MIN_IN_FLIGHT = 10
const MAX_IN_FLIGHT = 2_000

export interface PublishReport {
  sent: number
  /** Messages skipped because the room was over a second behind. */
  shed: number
  /** `ok` frames (newly stored) that arrived inside the measured window. */
  storedInWindow: number
  stored: number
  /** Publishes without an `ok` by the end, answered `err`, or answered `dup`. */
  unconfirmed: number
  errors: Record<string, number>
  /** The highest cursor the room assigned. */
  lastCursor: number
  /** Per sequence number: `Published.*`. */
  published: Uint8Array
  okLatency: LatencySummary
  /** How late the publisher sent the messages due inside the window, against the schedule. */
  lateness: LatencySummary
  /** Why publisher sockets closed, if any did. */
  closes: string[]
}

interface PublisherSocket {
  readonly ws: WebSocket
  /** Sequence numbers sent and not yet answered, oldest first (from `head`). */
  readonly pending: number[]
  head: number
  last: number
  sinceAck: number
  closed: string | null
  closing: boolean
}

export class Publisher {
  private readonly sockets: PublisherSocket[] = []
  private readonly sentAt: Float64Array
  private readonly okMs: number[] = []
  private readonly lateMs: number[] = []
  private readonly published: Uint8Array
  private readonly errors: Record<string, number> = {}
  private lastCursor = 0
  private shed = 0
  private inFlight = 0
  /** Arrival times of the `ok` frames of the last second or so (from `okHead`). */
  private readonly okTimes: number[] = []
  private okHead = 0
  private storedInWindow = 0
  private window = { from: Number.POSITIVE_INFINITY, to: Number.POSITIVE_INFINITY }

  constructor(capacity: number) {
    this.sentAt = new Float64Array(capacity)
    this.published = new Uint8Array(capacity)
  }

  /** Opens `count` sockets and waits for each one's `live` frame. */
  async open(url: string, count: number, timeoutMs: number): Promise<void> {
    await Promise.all(Array.from({ length: count }, () => this.connect(url, timeoutMs)))
  }

  private connect(url: string, timeoutMs: number): Promise<void> {
    const ws = new WebSocket(url, { perMessageDeflate: false })
    ws.binaryType = 'nodebuffer'
    const s: PublisherSocket = { ws, pending: [], head: 0, last: -1, sinceAck: 0, closed: null, closing: false }
    this.sockets.push(s)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('publisher: no `live` frame in time')), timeoutMs)
      ws.on('message', (data: Buffer) => {
        const at = now()
        let frame: ReturnType<typeof decodeTopicServerFrame>
        try {
          frame = decodeTopicServerFrame(data)
        } catch {
          this.errors.undecodable = (this.errors.undecodable ?? 0) + 1
          return
        }
        const messages = topicMessagesOf(frame)
        if (messages.length > 0) {
          s.last = Math.max(s.last, messages.at(-1)?.c ?? s.last)
          s.sinceAck += messages.length
          if (s.sinceAck >= ACK_EVERY) this.ack(s)
        } else if (frame.t === TopicFrameType.Ok || frame.t === TopicFrameType.Error) {
          const seq = s.pending[s.head++]
          if (seq === undefined) return
          this.inFlight--
          this.okTimes.push(at)
          if (frame.t === TopicFrameType.Error) this.errors[frame.code] = (this.errors[frame.code] ?? 0) + 1
          else if (!frame.dup) {
            this.published[seq] = Published.Stored
            this.okMs.push(at - (this.sentAt[seq] ?? at))
            this.lastCursor = Math.max(this.lastCursor, frame.c)
            if (at >= this.window.from && at < this.window.to) this.storedInWindow++
          }
        } else if (frame.t === TopicFrameType.Live && s.last === -1) {
          s.last = frame.c
          clearTimeout(timer)
          resolve()
        }
      })
      ws.on('close', (code: number, reason: Buffer) => {
        if (!s.closing) s.closed = `${code} ${reason.toString('utf8')}`.trim()
        clearTimeout(timer)
        reject(new Error(`publisher socket closed: ${s.closed}`))
      })
      ws.on('error', (error: Error) => {
        clearTimeout(timer)
        reject(error)
      })
    })
  }

  private ack(s: PublisherSocket): void {
    s.sinceAck = 0
    if (s.ws.readyState === WebSocket.OPEN) s.ws.send(encodeTopicFrame({ t: TopicFrameType.Ack, c: s.last }))
  }

  /** Whether the room is behind: more unanswered than it answered in the last second, or the oldest over a second old. */
  private roomBehind(t: number): boolean {
    if (this.inFlight === 0) return false
    while (this.okHead < this.okTimes.length && (this.okTimes[this.okHead] ?? t) < t - SHED_AFTER_MS) this.okHead++
    const answeredLastSecond = this.okTimes.length - this.okHead
    if (this.inFlight >= Math.min(MAX_IN_FLIGHT, Math.max(MIN_IN_FLIGHT, answeredLastSecond))) return true
    for (const s of this.sockets) {
      const oldest = s.pending[s.head]
      if (oldest !== undefined && t - (this.sentAt[oldest] ?? t) > SHED_AFTER_MS) return true
    }
    return false
  }

  /**
   * Sends `frames[seq]` at its scheduled time, in turn over the sockets, or
   * sheds it while the room is behind; resolves when every frame is due and
   * dealt with. `window` is the measured window, for `storedInWindow`.
   */
  run(frames: readonly Uint8Array[], t0: number, ratePerS: number, window: { from: number; to: number }) {
    this.window = window
    let next = 0
    return new Promise<void>((resolve) => {
      const tick = () => {
        const t = now()
        while (next < frames.length && scheduledAt(t0, ratePerS, next) <= t) {
          const s = this.sockets[next % this.sockets.length]
          const frame = frames[next]
          if (this.roomBehind(t)) this.shed++
          else if (s !== undefined && frame !== undefined && s.ws.readyState === WebSocket.OPEN) {
            const sentAt = now()
            this.sentAt[next] = sentAt
            const due = scheduledAt(t0, ratePerS, next)
            if (due >= window.from && due < window.to) this.lateMs.push(sentAt - due)
            this.published[next] = Published.Unconfirmed
            s.pending.push(next)
            this.inFlight++
            s.ws.send(frame)
          }
          next++
        }
        if (next >= frames.length) return resolve()
        setTimeout(tick, Math.max(0, Math.min(1, scheduledAt(t0, ratePerS, next) - now())))
      }
      setTimeout(tick, Math.max(0, t0 - now()))
    })
  }

  /** Waits until every publish is answered, or `deadline` (ms since epoch). */
  async drain(deadline: number): Promise<void> {
    for (let i = 0; i < 100_000 && Date.now() < deadline; i++) {
      if (this.sockets.every((s) => s.closed !== null || s.head >= s.pending.length)) break
      await sleep(20)
    }
    for (const s of this.sockets) if (s.sinceAck > 0) this.ack(s)
  }

  report(): PublishReport {
    let sent = 0
    let stored = 0
    for (const state of this.published) {
      if (state !== Published.None) sent++
      if (state === Published.Stored) stored++
    }
    return {
      sent,
      shed: this.shed,
      storedInWindow: this.storedInWindow,
      stored,
      unconfirmed: sent - stored,
      errors: { ...this.errors },
      lastCursor: this.lastCursor,
      published: this.published.slice(),
      okLatency: summarize(this.okMs),
      lateness: summarize(this.lateMs),
      closes: this.sockets.flatMap((s) => (s.closed === null ? [] : [s.closed])),
    }
  }

  async close(): Promise<void> {
    for (const s of this.sockets) {
      s.closing = true
      s.ws.close(1000)
    }
    for (let i = 0; i < 100 && this.sockets.some((s) => s.ws.readyState !== WebSocket.CLOSED); i++) await sleep(20)
    for (const s of this.sockets) s.ws.terminate()
  }
}
