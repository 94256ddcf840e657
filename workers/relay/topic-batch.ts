/**
 * How a topic room gathers the messages it stored into frames. Messages
 * stored while the room is busy wait for the flush window (`flushWindowMs`),
 * then go out together, encoded once for every reader (from the envelopes'
 * stored bytes, `shared/src/topic-encoded.ts`): one `msgs` frame per
 * run of messages whose envelopes fit `MAX_BATCH_BYTES`, or a plain `msg`
 * frame when a run holds one message. As in the document room, the first
 * message after an idle spell (no flush for a window) goes out at once (a
 * timer of 0), and at most `MAX_PENDING_MESSAGES` wait.
 *
 * The runtime runs a due timer only once the frames already queued for the
 * room are handled, so while the room is behind, the messages queued behind
 * a flush gather into the next one whatever the timer says. The window is
 * also checked on every message: without it a flood would gather its whole
 * backlog into one flush.
 */
import {
  decodeTopicServerFrame,
  type EncodedMessage,
  encodeMessageFrame,
  encodeMessagesFrame,
  encodeTopicFrame,
  Limits,
  TopicFrameType,
  topicMessagesOf,
} from '@vivim/shared'

/** The shortest flush window, with few readers. */
export const TOPIC_FLUSH_WINDOW_MS = 5

/** The window grows by 1 ms for this many readers, since each flush costs a send per reader ... */
export const READERS_PER_WINDOW_MS = 5

/** ... up to this long. */
export const TOPIC_MAX_FLUSH_WINDOW_MS = 200

/** Messages waiting past which the room flushes at once (well below `Limits.maxTopicReaderLag`). */
export const MAX_PENDING_MESSAGES = 256

/**
 * How long messages gather once the room is busy, counted from the first one waiting: 1 ms per 5
 * readers, at least 5 ms and at most 200 ms (20 ms with 100 readers). Sending a frame to a socket
 * is the room's largest cost under load, so a busy room sends each reader at most one frame a
 * window, whatever the message rate: 100 readers get at most 5,000 frames a second, 1,000 readers
 * at most 5,000 too. A quiet room is not delayed (the first message after an idle spell goes out
 * at once).
 */
export function flushWindowMs(readers: number): number {
  return Math.min(
    TOPIC_MAX_FLUSH_WINDOW_MS,
    Math.max(TOPIC_FLUSH_WINDOW_MS, Math.floor(readers / READERS_PER_WINDOW_MS)),
  )
}

/** Bytes of envelopes, `ITEM_BYTES` each added, one frame carries at most (well within the frame limit). */
export const MAX_BATCH_BYTES = Limits.maxFrameBytes - 64 * 1024

/** What an item adds to a `msgs` frame besides its envelope: its map header, keys and cursor (at most 14). */
const ITEM_BYTES = 16

/** A stored message waiting for the next flush: its cursor and its envelope's stored bytes. */
export type PendingMessage = EncodedMessage

/** One frame of a flush, and the cursors it carries. */
export interface BatchFrame {
  readonly first: number
  readonly last: number
  readonly frame: Uint8Array
}

/** The frames for `messages` (in cursor order): `msgs` frames of at most `MAX_BATCH_BYTES`, `msg` for a run of one. */
export function batchFrames(messages: readonly PendingMessage[]): BatchFrame[] {
  const frames: BatchFrame[] = []
  let run: PendingMessage[] = []
  let runBytes = 0
  const close = () => {
    const first = run[0]
    const last = run.at(-1)
    if (first === undefined || last === undefined) return
    const frame = run.length === 1 ? encodeMessageFrame(first) : encodeMessagesFrame(run)
    frames.push({ first: first.c, last: last.c, frame })
    run = []
    runBytes = 0
  }
  for (const message of messages) {
    const bytes = message.envelope.byteLength + ITEM_BYTES
    if (run.length > 0 && runBytes + bytes > MAX_BATCH_BYTES) close()
    run.push(message)
    runBytes += bytes
  }
  close()
  return frames
}

/**
 * The part of `batch` after cursor `after`, as a frame of its own, for a reader that already has
 * the rest (a fan-out object's reader whose replay went past the batch's first cursor). Decoded
 * and encoded again, which the canonical encoding makes byte for byte what splicing would give;
 * rare, so the cost does not matter.
 */
export function batchAfter(batch: BatchFrame, after: number): BatchFrame {
  const items = topicMessagesOf(decodeTopicServerFrame(batch.frame)).filter((m) => m.c > after)
  const one = items.length === 1 ? items[0] : undefined
  const frame =
    one === undefined
      ? encodeTopicFrame({ t: TopicFrameType.Messages, m: [...items] })
      : encodeTopicFrame({ t: TopicFrameType.Message, c: one.c, e: one.e })
  return { first: items[0]?.c ?? batch.last, last: batch.last, frame }
}
