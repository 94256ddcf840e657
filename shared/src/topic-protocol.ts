/**
 * The topic socket protocol (`/v1/topics/<topic>`): one canonical-CBOR map
 * per binary frame, its kind in `t`.
 *
 *   client → room
 *     { t: "pub", e: envelope }      publish a signed message
 *     { t: "ack", c: cursor }        every message up to `c` is processed (flow control)
 *   room → client
 *     { t: "msg", c: cursor, e: envelope }       a message; cursors rise by one per stored message
 *     { t: "msgs", m: [{ c, e }, …] }            several messages in cursor order (one flush of the room)
 *     { t: "ok", id, c: cursor, dup: bool }      a publish is stored (or was already: dup)
 *     { t: "live", c: cursor }                   resume replay is done; live messages follow
 *     { t: "gap", from: cursor, oldest: cursor } the resume point fell out of the history window
 *     { t: "err", code, message }                a publish was refused; the socket stays open
 *
 * A subscriber resumes by connecting with `?cursor=<last cursor seen>` (0 for
 * the whole window) or `?after=<last message id seen>`.
 */
import { decodeCanonical, encodeCanonical } from './canonical.ts'
import type { ErrorCode } from './errors.ts'
import { envelopeFrom, type TopicEnvelope } from './topic-envelope.ts'

/** The `t` of every topic socket frame. */
export const TopicFrameType = {
  Publish: 'pub',
  Ack: 'ack',
  Message: 'msg',
  Messages: 'msgs',
  Ok: 'ok',
  Live: 'live',
  Gap: 'gap',
  Error: 'err',
} as const

/** A frame a client sends to a topic room; `e` is the envelope as a nested map. */
export type TopicClientFrame =
  | { t: typeof TopicFrameType.Publish; e: TopicEnvelope }
  | { t: typeof TopicFrameType.Ack; c: number }

/** One message in a `msgs` frame: its cursor and its envelope (a nested map). */
export interface TopicBatchItem {
  readonly c: number
  readonly e: TopicEnvelope
}

/** A frame a topic room sends to a client. */
export type TopicServerFrame =
  | { t: typeof TopicFrameType.Message; c: number; e: TopicEnvelope }
  | { t: typeof TopicFrameType.Messages; m: TopicBatchItem[] }
  | { t: typeof TopicFrameType.Ok; id: string; c: number; dup: boolean }
  | { t: typeof TopicFrameType.Live; c: number }
  | { t: typeof TopicFrameType.Gap; from: number; oldest: number }
  | { t: typeof TopicFrameType.Error; code: ErrorCode; message: string }

/** A topic frame's canonical CBOR; the envelope is encoded as a nested map, not as bytes. */
export function encodeTopicFrame(frame: TopicClientFrame | TopicServerFrame): Uint8Array {
  return encodeCanonical(frame as never)
}

const isCursor = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0

/** Decodes a client frame; throws on anything else. */
export function decodeTopicClientFrame(bytes: Uint8Array): TopicClientFrame {
  const v = decodeCanonical(bytes) as Record<string, unknown>
  if (v?.t === TopicFrameType.Publish && Object.keys(v).length === 2) return { t: v.t, e: envelopeFrom(v.e) }
  if (v?.t === TopicFrameType.Ack && Object.keys(v).length === 2 && isCursor(v.c)) return { t: v.t, c: v.c }
  throw new Error('expected { t: "pub", e } or { t: "ack", c }')
}

/** Decodes a room frame; throws on anything else. */
export function decodeTopicServerFrame(bytes: Uint8Array): TopicServerFrame {
  const v = decodeCanonical(bytes) as Record<string, unknown>
  switch (v?.t) {
    case TopicFrameType.Message:
      if (isCursor(v.c)) return { t: v.t, c: v.c, e: envelopeFrom(v.e) }
      break
    case TopicFrameType.Messages:
      if (Object.keys(v).length === 2 && Array.isArray(v.m) && v.m.length > 0) return { t: v.t, m: batchItems(v.m) }
      break
    case TopicFrameType.Ok:
      if (typeof v.id === 'string' && isCursor(v.c) && typeof v.dup === 'boolean') {
        return { t: v.t, id: v.id, c: v.c, dup: v.dup }
      }
      break
    case TopicFrameType.Live:
      if (isCursor(v.c)) return { t: v.t, c: v.c }
      break
    case TopicFrameType.Gap:
      if (isCursor(v.from) && isCursor(v.oldest)) return { t: v.t, from: v.from, oldest: v.oldest }
      break
    case TopicFrameType.Error:
      if (typeof v.code === 'string' && typeof v.message === 'string') {
        return { t: v.t, code: v.code as ErrorCode, message: v.message }
      }
      break
  }
  throw new Error('not a topic room frame')
}

/** The items of a `msgs` frame: maps of exactly `c` and `e`, cursors strictly rising. */
function batchItems(items: unknown[]): TopicBatchItem[] {
  let last = -1
  return items.map((item) => {
    const r = item as Record<string, unknown>
    if (typeof item !== 'object' || item === null || Object.keys(r).length !== 2 || !isCursor(r.c) || r.c <= last) {
      throw new Error('a msgs item is { c, e } with cursors rising')
    }
    last = r.c
    return { c: r.c, e: envelopeFrom(r.e) }
  })
}

/** The messages a room frame carries, in cursor order: one for `msg`, several for `msgs`, none for the others. */
export function topicMessagesOf(frame: TopicServerFrame): readonly TopicBatchItem[] {
  if (frame.t === TopicFrameType.Message) return [{ c: frame.c, e: frame.e }]
  if (frame.t === TopicFrameType.Messages) return frame.m
  return []
}
