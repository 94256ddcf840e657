/**
 * `DocRoom`, one Durable Object per Yjs document: the socket protocol and
 * the one write path are in `doc-room-core.ts`; this class adds what other
 * parts of the edge call on the room, each through that write path:
 * federation's reads and writes (`remoteState`, `remoteUpdate`), documents
 * over HTTP (`doc-http-room.ts`), and version history (`doc-versions.ts`,
 * `doc-restore.ts`).
 */
import { CloseCode, ErrorCode, type Settled, settle, VivimError } from '@vivim/shared'
import * as Y from 'yjs'
import { ownerFromName } from '../auth/resource-owner.ts'
import type { Access } from '../http/access.ts'
import { ownerKey } from './client-owners.ts'
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
import type { RemoteState } from './doc-live.ts'
import { restoreUpdate } from './doc-restore.ts'
import { DocRoomCore } from './doc-room-core.ts'
import type { VersionInfo } from './doc-versions.ts'
import { admittedState, PEER_ACCESS } from './socket-state.ts'

export class DocRoom extends DocRoomCore {
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
      this.erased.record(Y.encodeStateVector(this.live.get().doc))
      this.live.store.compact(new Uint8Array(0))
      this.versions.clear()
      markDeleted(this.ctx.storage)
      this.live.rollback()
      for (const ws of this.ctx.getWebSockets()) this.sockets.reject(ws, CloseCode.DocumentDeleted, DELETED_REASON)
      return null
    })
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
}
