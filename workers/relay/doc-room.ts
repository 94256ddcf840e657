/**
 * `DocRoom`, one Durable Object per Yjs document: the place where every
 * client of a conversation, circle, profile or settings document meets, and
 * where the document is stored. It speaks y-protocols exactly as the stock
 * `y-websocket` server does (see `shared/src/doc-protocol.ts`).
 *
 * Writes are coalesced: the effective updates that arrive while a flush is
 * pending are merged into one, written to SQLite as one log row, then sent
 * to every socket as one frame. The first update after an idle spell flushes
 * at once, so latency stays low at light load; under load a socket gets one
 * frame per flush window instead of one per update, which is what lets one
 * object keep up with thousands of updates a second.
 */

import {
  CloseCode,
  createSchemaGuard,
  type DocMessage,
  type DocType,
  decodeDocMessage,
  defineRoots,
  ErrorCode,
  encodeAwarenessFrame,
  encodePermissionDenied,
  encodeSyncStep1,
  encodeSyncStep2,
  encodeSyncUpdate,
  Limits,
  MessageType,
  parseDocId,
  type SchemaGuard,
  SyncType,
  VivimError,
} from '@vivim/shared'
import * as Y from 'yjs'
import { ownerFromName } from '../auth/resource-owner.ts'
import { edgeEvents } from '../extensions/events.ts'
import { encodeAwarenessUpdate } from './awareness-table.ts'
import { ClientOwners, ownerKey } from './client-owners.ts'
import { applyIncoming, storableBatches } from './doc-apply.ts'
import { DocStore } from './doc-store.ts'
import { RefusedWriters } from './refused-writers.ts'
import { Room } from './room.ts'
import type { RoomRequest } from './room-headers.ts'
import { RoomPresence } from './room-presence.ts'
import { socketState } from './socket-state.ts'

/** A Yjs update that changes nothing. */
const EMPTY_UPDATE = new Uint8Array([0, 0])

/** How long updates gather before a flush, once the room is busy. */
const FLUSH_WINDOW_MS = 5

interface LoadedDoc {
  readonly doc: Y.Doc
  readonly type: DocType | null
  readonly guard: SchemaGuard | null
}

export class DocRoom extends Room<DocMessage> {
  protected readonly kind = 'document room'
  protected readonly frameName = 'y-protocols message'
  private readonly store: DocStore
  private loaded: LoadedDoc | null = null
  private pending: Uint8Array[] = []
  private flushTimer: ReturnType<typeof setTimeout> | null = null
  private lastFlushAt = 0
  private readonly presence: RoomPresence
  private readonly clients: ClientOwners
  /** The socket whose update is being applied: the writer the schema guard checks the rules for. */
  private writing: WebSocket | null = null
  /** The document's owner once known (it never changes after). */
  private knownOwner: string | null = null
  /** Updates in a row each socket sent that depended on content the room lacks. */
  private readonly incomplete = new WeakMap<WebSocket, number>()
  private readonly refusedWriters = new RefusedWriters()

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    this.store = new DocStore(ctx.storage)
    this.clients = new ClientOwners(ctx.storage.sql, ctx.getWebSockets())
    this.presence = new RoomPresence(() => ctx.getWebSockets(), {
      foreign: (ws, ids) => this.clients.foreign(ids, ownerKey(socketState(ws))),
    })
    // Answered by the runtime without waking the room: clients detect dead links for free.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('ping', 'pong'))
  }

  protected override onUpgrade({ name: docId, access }: RoomRequest): void {
    this.claim(access, 'document')
    const wait = access.did === null ? 0 : this.refusedWriters.waitFor(access.did)
    if (wait > 0) {
      throw new VivimError(
        ErrorCode.RateLimited,
        `a write of this identity was refused; wait ${Math.ceil(wait / 1000)} s`,
      )
    }
    this.store.bindDocId(docId)
  }

  protected override onConnect(ws: WebSocket, { access }: RoomRequest): void {
    ws.send(encodeSyncStep1(Y.encodeStateVector(this.room().doc)))
    const presence = access.canRead ? this.presence.snapshotFrame() : null
    if (presence) ws.send(presence)
  }

  protected override decode(bytes: Uint8Array): DocMessage {
    return decodeDocMessage(bytes)
  }

  protected override onFrame(ws: WebSocket, msg: DocMessage): void {
    switch (msg.type) {
      case MessageType.Sync:
        if (msg.syncType === SyncType.Step1) {
          this.answerStep1(ws, msg.data)
          return
        }
        this.receiveUpdate(ws, msg.data)
        return
      case MessageType.Awareness:
        this.receiveAwareness(ws, msg.update)
        return
      case MessageType.QueryAwareness:
        this.sockets.send(
          ws,
          (socketState(ws).canRead ? this.presence.snapshotFrame() : null) ??
            encodeAwarenessFrame(encodeAwarenessUpdate([])),
        )
        return
      case MessageType.Auth:
        return
    }
  }

  /** Loads the document on first use after start or wake: snapshot, then the log. */
  private room(): LoadedDoc {
    if (this.loaded) return this.loaded
    const docId = this.store.docId()
    const type = docId === null ? null : parseDocId(docId).type
    const doc = new Y.Doc()
    if (type !== null) defineRoots(doc, type)
    const stored = this.store.load()
    if (stored.snapshot) Y.applyUpdate(doc, stored.snapshot)
    for (const update of stored.updates) Y.applyUpdate(doc, update)
    for (const update of this.pending) Y.applyUpdate(doc, update)
    const guard = type === null ? null : createSchemaGuard(doc, type, () => this.writer())
    this.loaded = { doc, type, guard }
    return this.loaded
  }

  /** Who writes the update being applied, for the rules; null (schema only) for a socket without a DID. */
  private writer(): { did: string; owner: string | null; admin: boolean } | null {
    const state = this.writing === null ? null : socketState(this.writing)
    if (state?.did == null) return null
    const docId = this.store.docId()
    this.knownOwner ??= (docId === null ? null : ownerFromName(`doc:${docId}`)) ?? this.owner()
    return { did: state.did, owner: this.knownOwner, admin: state.canAdmin }
  }

  /** Throws the in-memory document away; the next use reloads what is stored plus what is pending. */
  private rollback(): void {
    this.loaded?.guard?.destroy()
    this.loaded?.doc.destroy()
    this.loaded = null
  }

  private answerStep1(ws: WebSocket, stateVector: Uint8Array): void {
    // A write-only grant sends without reading: an empty step 2 tells its client it is in sync.
    if (!socketState(ws).canRead) {
      this.sockets.send(ws, encodeSyncStep2(EMPTY_UPDATE))
      return
    }
    // Nothing leaves the room before it is stored: flush first.
    this.flush()
    let diff: Uint8Array
    try {
      diff = Y.encodeStateAsUpdate(this.room().doc, stateVector)
    } catch {
      this.sockets.reject(ws, CloseCode.BadFrame, 'sync step 1 carries no valid state vector')
      return
    }
    this.sockets.send(ws, encodeSyncStep2(diff))
  }

  private receiveUpdate(ws: WebSocket, update: Uint8Array): void {
    const isEmpty = update.length <= 2 && update.every((b) => b === 0)
    if (!socketState(ws).canWrite) {
      if (!isEmpty) this.sockets.send(ws, encodePermissionDenied('read-only connection: the update was not applied'))
      return
    }
    if (isEmpty) return
    if (this.store.storedBytes + update.length > Limits.maxDocumentBytes) {
      this.flush()
      this.compact()
      if (this.store.storedBytes + update.length > Limits.maxDocumentBytes) {
        this.sockets.reject(ws, CloseCode.DocumentTooLarge, `document would exceed ${Limits.maxDocumentBytes} bytes`)
        return
      }
    }
    const { doc, guard } = this.room()
    this.writing = ws
    const applied = applyIncoming(doc, update, ws)
    this.writing = null
    const tooMany = applied.newClients > Limits.maxNewClientsPerUpdate
    const problem =
      applied.error !== null
        ? { reason: applied.error, forbidden: false }
        : tooMany
          ? { reason: `an update may bring at most ${Limits.maxNewClientsPerUpdate} new Yjs clients`, forbidden: false }
          : (guard?.take() ?? null)
    const key = ownerKey(socketState(ws))
    const announcer = (id: number) => {
      const ws = this.presence.ownerOf(id)
      return ws === undefined ? undefined : ownerKey(socketState(ws))
    }
    const foreign = problem === null ? this.clients.foreign(applied.written, key, announcer) : null
    if (problem !== null || foreign !== null) {
      // Yjs cannot undo: the document is reloaded from storage plus what others sent, which never saw this update.
      this.rollback()
      const { did } = socketState(ws)
      if (did !== null) this.refusedWriters.refused(did)
      if (problem === null)
        this.sockets.reject(ws, CloseCode.Forbidden, `Yjs client ${foreign} writes for another identity`)
      else this.sockets.reject(ws, problem.forbidden ? CloseCode.Forbidden : CloseCode.InvalidUpdate, problem.reason)
      return
    }
    this.clients.claim(applied.written, key)
    if (applied.incomplete) this.askForMissing(ws, doc)
    else this.incomplete.delete(ws)
    if (applied.effective.length > 0) {
      this.pending.push(...applied.effective)
      this.scheduleFlush()
    }
  }

  /** Part of the socket's update was dropped (see `doc-apply.ts`): ask it for all the room lacks, a bounded number of times. */
  private askForMissing(ws: WebSocket, doc: Y.Doc): void {
    const count = (this.incomplete.get(ws) ?? 0) + 1
    this.incomplete.set(ws, count)
    if (count > Limits.maxIncompleteUpdates) {
      this.sockets.reject(
        ws,
        CloseCode.InvalidUpdate,
        `${count} updates in a row depend on content this document lacks`,
      )
      return
    }
    this.sockets.send(ws, encodeSyncStep1(Y.encodeStateVector(doc)))
  }

  private scheduleFlush(): void {
    if (this.flushTimer !== null) return
    const idle = Date.now() - this.lastFlushAt >= FLUSH_WINDOW_MS
    this.flushTimer = setTimeout(() => this.flush(), idle ? 0 : FLUSH_WINDOW_MS)
  }

  /** Stores what is pending as one log row, then sends it to every socket as one frame. */
  private flush(): void {
    if (this.flushTimer !== null) clearTimeout(this.flushTimer)
    this.flushTimer = null
    for (const batch of storableBatches(this.pending)) {
      const merged = batch.length === 1 ? (batch[0] as Uint8Array) : Y.mergeUpdates(batch)
      this.store.append(merged)
      this.ctx.waitUntil(edgeEvents.docFlushed(this.env, { docId: this.store.docId(), update: merged }))
      this.broadcast(encodeSyncUpdate(merged))
    }
    this.pending = []
    this.lastFlushAt = Date.now()
    if (this.store.shouldCompact()) this.compact()
  }

  private compact(): void {
    this.store.compact(Y.encodeStateAsUpdate(this.room().doc))
  }

  private receiveAwareness(ws: WebSocket, update: Uint8Array): void {
    const result = this.presence.receive(ws, update)
    if (!result.ok) {
      this.sockets.reject(ws, result.code, result.reason)
      return
    }
    if (result.frame) this.broadcast(result.frame)
  }

  /** A socket left: its awareness states go, and the others are told. */
  protected override onLeave(ws: WebSocket): void {
    this.clients.release(ownerKey(socketState(ws)))
    const frame = this.presence.leave(ws)
    if (frame) this.broadcast(frame, { except: ws })
  }
}
