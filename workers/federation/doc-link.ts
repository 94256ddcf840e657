/**
 * How federation reads and writes a local document: over the same y-protocols
 * socket a client uses, opened on the room by the Worker with full access.
 * That keeps every rule of the room (schema checks, size limits, flush then
 * broadcast) in force for remote updates, and gives a true acknowledgement:
 * the room answers sync step 1 only after it has flushed, so once the step 2
 * arrives, an update sent before it is stored.
 *
 * @example
 * ```ts
 * await withDocRoom(env, 'conversation:c1', async (room) => {
 *   room.apply(update)
 *   const missing = await room.diff(theirStateVector) // also: `update` is stored now
 * })
 * ```
 */
import {
  CloseCode,
  type DocMessage,
  decodeDocMessage,
  ErrorCode,
  encodeSyncStep1,
  encodeSyncUpdate,
  MessageType,
  SyncType,
  VivimError,
} from '@vivim/shared'
import type { Access } from '../http/access.ts'
import { connectRequest } from '../relay/room-headers.ts'

/** The access federation acts with: the peer was authenticated by its signature and its link. */
export const FEDERATED_ACCESS: Access = {
  did: null,
  canRead: true,
  canWrite: true,
  exp: null,
  tokens: [],
  newOwner: null,
}

const WAIT_MS = 15_000

export interface DocRoomLink {
  /** The room's state vector when the link opened. */
  readonly stateVector: Uint8Array
  /** Sends an update as a writer would. */
  apply(update: Uint8Array): void
  /** What the room holds beyond `stateVector`, once everything sent before is stored. */
  diff(stateVector: Uint8Array): Promise<Uint8Array>
}

export async function withDocRoom<T>(env: Env, docId: string, run: (room: DocRoomLink) => Promise<T>): Promise<T> {
  const response = await env.DOC_ROOM.getByName(docId).fetch(connectRequest(docId, FEDERATED_ACCESS))
  const ws = response.webSocket
  if (!ws) {
    // A room that failed may not fail next time; one that refused will.
    if (response.status >= 500) throw new Error(`the document room failed (${response.status})`)
    throw new VivimError(ErrorCode.Forbidden, `the document room refused the link (${response.status})`)
  }
  const queue: DocMessage[] = []
  let wake: (() => void) | null = null
  let closed: { code: number; reason: string } | null = null
  ws.accept()
  // Binary frames arrive as Blobs unless asked otherwise.
  ws.binaryType = 'arraybuffer'
  ws.addEventListener('message', (event) => {
    if (typeof event.data === 'string') return
    try {
      queue.push(decodeDocMessage(new Uint8Array(event.data as ArrayBuffer)))
    } catch {}
    wake?.()
  })
  ws.addEventListener('close', (event) => {
    closed = { code: event.code, reason: event.reason }
    wake?.()
  })
  const next = async (syncType: number): Promise<Uint8Array> => {
    const deadline = Date.now() + WAIT_MS
    for (;;) {
      const at = queue.findIndex((m) => m.type === MessageType.Sync && m.syncType === syncType)
      if (at >= 0) return (queue.splice(at, 1)[0] as DocMessage & { data: Uint8Array }).data
      if (closed !== null) {
        const { code, reason } = closed as { code: number; reason: string }
        // The room refused what was sent (malformed, schema, size): the same bytes will never pass.
        if (code === CloseCode.BadFrame || code === CloseCode.InvalidUpdate || code === CloseCode.DocumentTooLarge) {
          throw new VivimError(ErrorCode.BadRequest, `the document refused the update: ${reason}`)
        }
        throw new Error(`the document room closed the link (${code} ${reason})`)
      }
      if (Date.now() > deadline) throw new Error('the document room did not answer')
      await new Promise<void>((resolve) => {
        wake = resolve
        setTimeout(resolve, 1000)
      })
      wake = null
    }
  }
  try {
    const stateVector = await next(SyncType.Step1)
    return await run({
      stateVector,
      apply: (update) => ws.send(encodeSyncUpdate(update)),
      diff: (sv) => {
        ws.send(encodeSyncStep1(sv))
        return next(SyncType.Step2)
      },
    })
  } finally {
    try {
      ws.close(CloseCode.Normal, 'done')
    } catch {}
  }
}
