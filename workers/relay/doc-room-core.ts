/**
 * The core of `DocRoom` (`doc-room.ts`), one Durable Object per Yjs
 * document: the place where every client of a conversation, circle, profile
 * or settings document meets, and where the document is stored. It speaks
 * y-protocols exactly as the stock `y-websocket` server does (see
 * `shared/src/doc-protocol.ts`), and owns the one write path every writer
 * goes through: sockets here, and the RPC methods of `DocRoom`.
 *
 * Writes are coalesced (`doc-live.ts`): under load a socket gets one frame
 * per flush window instead of one per update, which is what lets one object
 * keep up with thousands of updates a second.
 */

import {
  CloseCode,
  type DocMessage,
  decodeDocMessage,
  ErrorCode,
  encodeAwarenessFrame,
  encodePermissionDenied,
  encodeSyncStep1,
  encodeSyncStep2,
  encodeSyncUpdate,
  Limits,
  MessageType,
  SyncType,
  VivimError,
} from '@vivim/shared'
import * as Y from 'yjs'
import { ownerFromName } from '../auth/resource-owner.ts'
import { edgeEvents } from '../extensions/events.ts'
import { encodeAwarenessUpdate } from './awareness-table.ts'
import { ClientOwners, ownerKey } from './client-owners.ts'
import { applyIncoming, type Refusal } from './doc-apply.ts'
import { ErasedHistory } from './doc-erased.ts'
import { LiveDoc } from './doc-live.ts'
import { DocVersions, type VersionInfo } from './doc-versions.ts'
import { type Handover, HandoverJournal } from './handover-journal.ts'
import { RefusedWriters } from './refused-writers.ts'
import { Room } from './room.ts'
import type { RoomRequest } from './room-headers.ts'
import { RoomPresence } from './room-presence.ts'
import { type SocketState, socketState } from './socket-state.ts'

/** A Yjs update that changes nothing. */
const EMPTY_UPDATE = new Uint8Array([0, 0])

export abstract class DocRoomCore extends Room<DocMessage> {
  protected readonly kind = 'document room'
  protected readonly frameName = 'y-protocols message'
  protected readonly live: LiveDoc
  private readonly journal: HandoverJournal
  private readonly presence: RoomPresence
  protected readonly clients: ClientOwners
  /** The socket whose update is being applied: the writer the schema guard checks the rules for. */
  private writing: SocketState | null = null
  /** The document's owner once known (it never changes after). */
  private knownOwner: string | null = null
  /** Updates in a row each socket sent that depended on content the room lacks. */
  private readonly incomplete = new WeakMap<WebSocket, number>()
  protected readonly refusedWriters = new RefusedWriters()
  protected readonly versions: DocVersions
  protected readonly erased: ErasedHistory
  /** The DIDs whose writes wait for the next flush, handed over with it. */
  private readonly flushWriters = new Set<string>()

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    this.live = new LiveDoc(ctx.storage, {
      onFlushed: (update, origin) => {
        // The first batch of a flush names every writer of it (a large flush is stored in several).
        const writers = [...this.flushWriters]
        this.flushWriters.clear()
        this.handOver({ kind: 'docFlushed', name: this.live.store.docId(), bytes: update, origin, writers })
        this.broadcast(encodeSyncUpdate(update))
      },
      writer: () => this.writer(),
      onCompacted: (state) => this.versions.take('compaction', state),
    })
    this.versions = new DocVersions(ctx)
    this.erased = new ErasedHistory(ctx.storage)
    this.clients = new ClientOwners(ctx.storage.sql, ctx.getWebSockets())
    this.presence = new RoomPresence(() => ctx.getWebSockets(), {
      foreign: (ws, ids) => this.clients.foreign(ids, ownerKey(socketState(ws))),
    })
    this.journal = new HandoverJournal(ctx, ({ name, bytes, origin, writers }) =>
      edgeEvents.docFlushed(env, { docId: name, update: bytes, origin, writers: writers ?? [] }),
    )
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
    this.live.store.bindDocId(docId)
  }

  protected override onConnect(ws: WebSocket, { access }: RoomRequest): void {
    ws.send(encodeSyncStep1(Y.encodeStateVector(this.live.get().doc)))
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

  /** Who writes the update being applied, for the rules; null (schema only) for a socket without a DID. */
  private writer(): { did: string; owner: string | null; admin: boolean } | null {
    const state = this.writing
    if (state?.did == null) return null
    const docId = this.live.store.docId()
    this.knownOwner ??= (docId === null ? null : ownerFromName(`doc:${docId}`)) ?? this.owner()
    return { did: state.did, owner: this.knownOwner, admin: state.canAdmin }
  }

  private answerStep1(ws: WebSocket, stateVector: Uint8Array): void {
    // A write-only grant sends without reading: an empty step 2 tells its client it is in sync.
    if (!socketState(ws).canRead) {
      this.sockets.send(ws, encodeSyncStep2(EMPTY_UPDATE))
      return
    }
    // Nothing leaves the room before it is stored: flush first.
    this.live.flush()
    let diff: Uint8Array
    try {
      diff = Y.encodeStateAsUpdate(this.live.get().doc, stateVector)
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
    const written = this.write(socketState(ws), update)
    if (written === 'incomplete') this.askForMissing(ws, this.live.get().doc)
    else if (written === 'complete') this.incomplete.delete(ws)
    else this.sockets.reject(ws, written.code, written.reason)
  }

  /**
   * Applies one update for a writer (a socket's state, or federation's):
   * size, the schema and the writer's rules, the Yjs clients it writes with;
   * a refused update leaves no trace (the document is reloaded). An applied
   * one is pending until the next flush.
   */
  protected write(writer: SocketState, incoming: Uint8Array): 'complete' | 'incomplete' | Refusal {
    // What the owner deleted stays deleted, whoever still holds a copy (`doc-erased.ts`).
    const update = this.erased.strip(incoming)
    if (update === null) return 'complete'
    if (this.live.store.storedBytes + update.length > Limits.maxDocumentBytes) {
      this.live.flush()
      this.live.compact()
      if (this.live.store.storedBytes + update.length > Limits.maxDocumentBytes) {
        return { code: CloseCode.DocumentTooLarge, reason: `document would exceed ${Limits.maxDocumentBytes} bytes` }
      }
    }
    const { doc, guard } = this.live.get()
    this.writing = writer
    const applied = applyIncoming(doc, update, writer)
    this.writing = null
    const tooMany = applied.newClients > Limits.maxNewClientsPerUpdate
    const problem =
      applied.error !== null
        ? { reason: applied.error, forbidden: false }
        : tooMany
          ? { reason: `an update may bring at most ${Limits.maxNewClientsPerUpdate} new Yjs clients`, forbidden: false }
          : (guard?.take() ?? null)
    const key = ownerKey(writer)
    const announcer = (id: number) => {
      const ws = this.presence.ownerOf(id)
      return ws === undefined ? undefined : ownerKey(socketState(ws))
    }
    const foreign = problem === null ? this.clients.foreign(applied.written, key, announcer) : null
    if (problem !== null || foreign !== null) {
      // Yjs cannot undo: the document is reloaded from storage plus what others sent, which never saw this update.
      this.live.rollback()
      if (writer.did !== null) this.refusedWriters.refused(writer.did)
      if (problem === null)
        return { code: CloseCode.Forbidden, reason: `Yjs client ${foreign} writes for another identity` }
      return { code: problem.forbidden ? CloseCode.Forbidden : CloseCode.InvalidUpdate, reason: problem.reason }
    }
    this.clients.claim(applied.written, key)
    this.live.add(applied.effective)
    this.versions.wrote(writer.did)
    if (writer.did !== null) this.flushWriters.add(writer.did)
    return applied.incomplete ? 'incomplete' : 'complete'
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

  private receiveAwareness(ws: WebSocket, update: Uint8Array): void {
    const result = this.presence.receive(ws, update)
    if (!result.ok) {
      this.sockets.reject(ws, result.code, result.reason)
      return
    }
    if (result.frame) this.broadcast(result.frame)
  }

  /**
   * Hands a stored flush to the extensions: journaled in this turn, with the
   * flush it belongs to, whenever one takes hand-overs (`handover-journal.ts`).
   */
  private handOver(handover: Handover): void {
    if (!edgeEvents.journals(this.env)) return
    const seq = this.journal.record(handover)
    // A failure stays journaled and is retried from the alarm; nothing to answer here.
    this.ctx.waitUntil(this.journal.deliver(seq, handover).catch(() => {}))
  }

  protected override async onAlarm(): Promise<void> {
    await this.journal.retry()
    if (await this.versions.quietSpellOver()) this.takeVersion('quiet')
  }

  /** Keeps the document as it is now (flushed first) as a version. */
  protected takeVersion(reason: 'quiet' | 'named' | 'before-restore', name: string | null = null): VersionInfo | null {
    this.live.flush()
    return this.versions.take(reason, Y.encodeStateAsUpdate(this.live.get().doc), name)
  }

  /** A socket left: its awareness states go, and the others are told. */
  protected override onLeave(ws: WebSocket): void {
    this.clients.release(ownerKey(socketState(ws)))
    const frame = this.presence.leave(ws)
    if (frame) this.broadcast(frame, { except: ws })
  }
}
