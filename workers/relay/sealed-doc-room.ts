/**
 * `SealedDocRoom`, one Durable Object per end-to-end encrypted document
 * (protocol: `shared/src/sealed-doc.ts`). It holds and relays ciphertext
 * only: it orders entries, enforces write rights and the size limit, and
 * lets the document's owner replace history with an encrypted snapshot.
 * Access, expiry and revocation work as in the other rooms (`room-guard.ts`);
 * the owner is the owner of the plain document of the same id (the Worker
 * asks `DOC_ROOM`), so this room never claims one of its own.
 */

import {
  CloseCode,
  decodeSealedClientFrame,
  ErrorCode,
  encodeSealedFrame,
  Limits,
  type SealedClientFrame,
  SealedFrameType,
  VivimError,
} from '@vivim/shared'
import { Room } from './room.ts'
import type { RoomRequest } from './room-headers.ts'
import { SealedDocStore } from './sealed-doc-store.ts'
import { socketState } from './socket-state.ts'

export class SealedDocRoom extends Room<SealedClientFrame> {
  protected readonly kind = 'sealed document'
  protected readonly frameName = 'sealed document frame'
  private readonly store: SealedDocStore

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    this.store = new SealedDocStore(ctx.storage)
  }

  protected override onConnect(ws: WebSocket, { access, resume }: RoomRequest): void {
    const after = resume?.startsWith('cursor:') ? Number(resume.slice('cursor:'.length)) : 0
    // A write-only grant sends without reading: it learns only where the history ends.
    for (const e of access.canRead ? this.store.after(after) : []) {
      ws.send(encodeSealedFrame({ t: SealedFrameType.Entry, s: e.seq, snap: e.snap, c: e.data }))
    }
    ws.send(encodeSealedFrame({ t: SealedFrameType.Live, s: this.store.latest }))
  }

  protected override decode(bytes: Uint8Array): SealedClientFrame {
    return decodeSealedClientFrame(bytes)
  }

  protected override onFrame(ws: WebSocket, frame: SealedClientFrame): void {
    try {
      if (!socketState(ws).canWrite) throw new VivimError(ErrorCode.Forbidden, 'read-only connection')
      if (this.store.storedBytes + frame.c.length > Limits.maxDocumentBytes && frame.t === SealedFrameType.Put) {
        this.sockets.reject(
          ws,
          CloseCode.DocumentTooLarge,
          `document would exceed ${Limits.maxDocumentBytes} bytes; compact it`,
        )
        return
      }
      if (frame.t === SealedFrameType.Snapshot) {
        // A snapshot drops every entry it covers: one writer could erase the others' edits.
        if (!socketState(ws).canAdmin) {
          throw new VivimError(
            ErrorCode.Forbidden,
            'only the document’s owner or an admin grant may replace its history',
          )
        }
        this.store.snapshot(frame.upto, frame.c)
        this.sockets.send(ws, encodeSealedFrame({ t: SealedFrameType.Ok, s: frame.upto }))
        return
      }
      const seq = this.store.append(frame.c)
      this.sockets.send(ws, encodeSealedFrame({ t: SealedFrameType.Ok, s: seq }))
      const entry = encodeSealedFrame({ t: SealedFrameType.Entry, s: seq, snap: false, c: frame.c })
      this.broadcast(entry)
    } catch (error) {
      if (!(error instanceof VivimError)) throw error
      this.sockets.send(ws, encodeSealedFrame({ t: SealedFrameType.Error, code: error.code, message: error.message }))
    }
  }
}
