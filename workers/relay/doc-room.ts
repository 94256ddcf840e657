/**
 * `DocRoom`, one Durable Object per Yjs document: the place where every
 * client of a conversation, circle, profile or settings document meets, and
 * where the document is stored. It speaks y-protocols exactly as the stock
 * `y-websocket` server does (see `shared/src/doc-protocol.ts`).
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
  type Settled,
  SyncType,
  settle,
  VivimError,
} from '@vivim/shared'
import * as Y from 'yjs'
import { ownerFromName } from '../auth/resource-owner.ts'
import { edgeEvents } from '../extensions/events.ts'
import type { Access } from '../http/access.ts'
import { encodeAwarenessUpdate } from './awareness-table.ts'
import { ClientOwners, ownerKey } from './client-owners.ts'
import { applyIncoming, type Refusal } from './doc-apply.ts'
import {
  admitWrite,
  DELETED_REASON,
  type DocForm,
  type DocJson,
  type HttpWritten,
  markDeleted,
  readAs,
  refusalError,
  requireExisting,
  requireOwner,
} from './doc-http-room.ts'
import { LiveDoc, type RemoteState } from './doc-live.ts'
import { restoreUpdate } from './doc-restore.ts'
import { DocVersions, type VersionInfo } from './doc-versions.ts'
import { type Handover, HandoverJournal } from './handover-journal.ts'
import { RefusedWriters } from './refused-writers.ts'
import { Room } from './room.ts'
import type { RoomRequest } from './room-headers.ts'
import { RoomPresence } from './room-presence.ts'
import { admittedState, PEER_ACCESS, type SocketState, socketState } from './socket-state.ts'

/** A Yjs update that changes nothing. */
const EMPTY_UPDATE = new Uint8Array([0, 0])

export class DocRoom extends Room<DocMessage> {
  protected readonly kind = 'document room'
  protected readonly frameName = 'y-protocols message'
  private readonly live: LiveDoc
  private readonly journal: HandoverJournal
  private readonly presence: RoomPresence
  private readonly clients: ClientOwners
  /** The socket whose update is being applied: the writer the schema guard checks the rules for. */
  private writing: SocketState | null = null
  /** The document's owner once known (it never changes after). */
  private knownOwner: string | null = null
  /** Updates in a row each socket sent that depended on content the room lacks. */
  private readonly incomplete = new WeakMap<WebSocket, number>()
  private readonly refusedWriters = new RefusedWriters()
  private readonly versions: DocVersions

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    this.live = new LiveDoc(ctx.storage, {
      onFlushed: (update, origin) => {
        this.handOver({ kind: 'docFlushed', name: this.live.store.docId(), bytes: update, origin })
        this.broadcast(encodeSyncUpdate(update))
      },
      writer: () => this.writer(),
      onCompacted: (state) => this.versions.take('compaction', state),
    })
    this.versions = new DocVersions(ctx)
    this.clients = new ClientOwners(ctx.storage.sql, ctx.getWebSockets())
    this.presence = new RoomPresence(() => ctx.getWebSockets(), {
      foreign: (ws, ids) => this.clients.foreign(ids, ownerKey(socketState(ws))),
    })
    this.journal = new HandoverJournal(ctx, ({ name, bytes, origin }) =>
      edgeEvents.docFlushed(env, { docId: name, update: bytes, origin }),
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

  /**
   * Another part of the edge (federation) reads the document: the state
   * vector, and what the room holds beyond `since` when given. Pending
   * updates are flushed first, so an update applied before is stored.
   */
  remoteState(docId: string, since: Uint8Array | null): Promise<Settled<RemoteState>> {
    return settle(() => {
      this.live.store.bindDocId(docId)
      this.live.flush()
      const { doc } = this.live.get()
      let diff: Uint8Array | null = null
      try {
        if (since !== null) diff = Y.encodeStateAsUpdate(doc, since)
      } catch {
        throw new VivimError(ErrorCode.BadRequest, 'not a Yjs state vector')
      }
      return { stateVector: Y.encodeStateVector(doc), diff }
    })
  }

  /**
   * Another part of the edge (federation) writes an update, with every
   * check a client's write gets (document size, schema, the Yjs clients it
   * writes with) but no DID's rules (the peer's own room checked them) and
   * no frame limit (a peer's large update arrives in parts, joined at the
   * inbox); answered once the update is stored and sent to every reader.
   */
  remoteUpdate(docId: string, update: Uint8Array, origin: string | null = null): Promise<Settled<null>> {
    return settle(() => {
      this.live.store.bindDocId(docId)
      // What clients wrote is stored first, so the next flush holds this peer's update alone and is not sent back to it.
      this.live.flush()
      // Its own key for the Yjs clients it writes with, released at once, as a socket's would be when it closes.
      const writer = admittedState(PEER_ACCESS)
      const written = this.write(writer, update)
      this.clients.release(ownerKey(writer))
      if (typeof written !== 'string') {
        const code = written.code === CloseCode.Forbidden ? ErrorCode.Forbidden : ErrorCode.BadRequest
        throw new VivimError(code, `the document refused the update: ${written.reason}`)
      }
      this.live.flush(origin)
      return null
    })
  }

  /**
   * Documents over HTTP (`doc-http-room.ts`): the document as it is stored (flushed first), as a Yjs
   * update (only what `since` lacks, when given), its state vector or, typed, its JSON.
   */
  readOverHttp(docId: string, form: DocForm, since: Uint8Array | null): Promise<Settled<Uint8Array | DocJson>> {
    return settle(() => {
      this.live.flush()
      requireExisting(this.ctx.storage, this.live.store, docId)
      const { doc, type } = this.live.get()
      return readAs(doc, type, form, since)
    })
  }

  /**
   * Documents over HTTP: one update written for `access` with every check a socket's write gets
   * (size, schema, the rules for its DID, the Yjs clients it writes with); answered once stored and
   * sent to every socket. Its client ids are owned as a socket's are.
   */
  writeOverHttp(docId: string, update: Uint8Array, access: Access): Promise<Settled<HttpWritten>> {
    return settle(() => {
      this.live.flush()
      requireExisting(this.ctx.storage, this.live.store, docId)
      admitWrite(access, access.did === null ? 0 : this.refusedWriters.waitFor(access.did))
      const writer = admittedState(access)
      const written = this.write(writer, update)
      this.clients.release(ownerKey(writer))
      if (typeof written !== 'string') throw refusalError(written)
      this.live.flush()
      return { complete: written === 'complete', stateVector: Y.encodeStateVector(this.live.get().doc) }
    })
  }

  /**
   * Documents over HTTP: the owner deletes the document. Its content and versions go, its sockets
   * are closed with 4410, and its name stays the owner's (and its Yjs client ids their owners').
   */
  deleteOverHttp(docId: string, access: Access): Promise<Settled<null>> {
    return settle(() => {
      this.live.flush()
      requireExisting(this.ctx.storage, this.live.store, docId)
      requireOwner(access, ownerFromName(`doc:${docId}`) ?? this.owner())
      this.live.store.compact(new Uint8Array(0))
      this.versions.clear()
      markDeleted(this.ctx.storage)
      this.live.rollback()
      for (const ws of this.ctx.getWebSockets()) this.sockets.reject(ws, CloseCode.DocumentDeleted, DELETED_REASON)
      return null
    })
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
  private write(writer: SocketState, update: Uint8Array): 'complete' | 'incomplete' | Refusal {
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
  private takeVersion(reason: 'quiet' | 'named' | 'before-restore', name: string | null = null): VersionInfo | null {
    this.live.flush()
    return this.versions.take(reason, Y.encodeStateAsUpdate(this.live.get().doc), name)
  }

  /** Version history (`doc-versions.ts`): a named version of the document as it is now. */
  saveVersion(docId: string, name: string): Promise<Settled<VersionInfo>> {
    return settle(() => {
      this.live.store.bindDocId(docId)
      return this.takeVersion('named', name) as VersionInfo
    })
  }

  /** The versions kept, newest first. */
  listVersions(docId: string): Promise<Settled<VersionInfo[]>> {
    return settle(() => {
      this.live.store.bindDocId(docId)
      return this.versions.list()
    })
  }

  /** A version's state, as a Yjs update from nothing. */
  versionState(docId: string, id: number): Promise<Settled<Uint8Array>> {
    return settle(() => {
      this.live.store.bindDocId(docId)
      const state = this.versions.state(id)
      if (state === null) throw new VivimError(ErrorCode.NotFound, `no version ${id} is kept`)
      return state
    })
  }

  /**
   * Restores a version as a new change (`doc-restore.ts`) written by `access` (an owner or admin),
   * after keeping what it replaces as a version; every socket receives it once stored.
   */
  restoreVersion(docId: string, id: number, access: Access): Promise<Settled<VersionInfo | null>> {
    return settle(() => {
      this.live.store.bindDocId(docId)
      const state = this.versions.state(id)
      if (state === null) throw new VivimError(ErrorCode.NotFound, `no version ${id} is kept`)
      const before = this.takeVersion('before-restore')
      const { doc, type } = this.live.get()
      // The schema checks a restore, no one's rules: it brings back what passed them, others' messages too.
      const writer = admittedState(PEER_ACCESS)
      const written = this.write(writer, restoreUpdate(Y.encodeStateAsUpdate(doc), state, type))
      this.clients.release(ownerKey(writer))
      this.versions.wrote(access.did)
      if (typeof written !== 'string')
        throw new VivimError(ErrorCode.Forbidden, `the restore was refused: ${written.reason}`)
      this.live.flush()
      return before
    })
  }

  /** A socket left: its awareness states go, and the others are told. */
  protected override onLeave(ws: WebSocket): void {
    this.clients.release(ownerKey(socketState(ws)))
    const frame = this.presence.leave(ws)
    if (frame) this.broadcast(frame, { except: ws })
  }
}
