/**
 * The document room's side of documents over HTTP (`doc-http.ts` holds the
 * routes; `docs/protocol.md`, Documents over HTTP): which documents exist,
 * the three forms a read answers in, how a refused write reads as an HTTP
 * error, who may delete, and the mark a deleted document keeps.
 *
 * A document exists once a WebSocket has opened it (HTTP never creates one,
 * so a name cannot be squatted by one request) and until its owner deletes
 * it. A deleted document keeps its name, its owner and the owners of its Yjs
 * client ids; its content and versions are gone. It exists again once a
 * socket (its owner, or a grant of theirs) writes to it.
 *
 * State: the table `doc_deleted`, one row while the document is deleted.
 *
 * @example
 * ```ts
 * requireExisting(ctx.storage, live.store, docId) // throws not_found
 * return readAs(live.get().doc, type, 'json', null) // { messages: [...], meta: {...} }
 * ```
 */
import { CloseCode, DocSchemas, type DocType, ErrorCode, VivimError } from '@vivim/shared'
import * as Y from 'yjs'
import type { Access } from '../http/access.ts'
import type { Refusal } from './doc-apply.ts'
import type { DocStore } from './doc-store.ts'

/** What a read answers with: the document as a Yjs update, its state vector, or its JSON. */
export type DocForm = 'update' | 'state-vector' | 'json'

/** A typed document as JSON: each root of its schema by name (`messages`, `meta`, …). */
export type DocJson = Record<string, unknown>

/** What an HTTP write answers once its update is stored. */
export interface HttpWritten {
  /** False when part of the update depended on content the document lacks and was dropped. */
  readonly complete: boolean
  /** The document's state vector after the write: what to compute the missing part against. */
  readonly stateVector: Uint8Array
}

/** The reason sockets of a deleted document are closed with (`CloseCode.DocumentDeleted`). */
export const DELETED_REASON = 'the document was deleted by its owner'

// Created on use: only rooms whose document meets HTTP pay for the table.
const DELETED_TABLE =
  'CREATE TABLE IF NOT EXISTS doc_deleted (id INTEGER PRIMARY KEY CHECK (id = 1), at INTEGER NOT NULL)'

/** Throws `not_found` unless the document exists (call after a flush, so `storedBytes` holds every write). */
export function requireExisting(storage: DurableObjectStorage, store: DocStore, docId: string): void {
  if (store.docId() === null) {
    throw new VivimError(
      ErrorCode.NotFound,
      `doc:${docId} does not exist: a WebSocket connect that may write creates it`,
    )
  }
  storage.sql.exec(DELETED_TABLE)
  if (storage.sql.exec('SELECT 1 FROM doc_deleted').toArray().length === 0) return
  if (store.storedBytes === 0) throw new VivimError(ErrorCode.NotFound, `doc:${docId} was deleted`)
  // A socket wrote to it after the delete: it exists again.
  storage.sql.exec('DELETE FROM doc_deleted')
}

/** Marks the document deleted (its content is already gone). */
export function markDeleted(storage: DurableObjectStorage): void {
  storage.sql.exec(DELETED_TABLE)
  storage.sql.exec('INSERT OR REPLACE INTO doc_deleted (id, at) VALUES (1, ?)', Date.now())
}

/** `doc` in `form`; an update holds only what `since` (a state vector) lacks when given. */
export function readAs(
  doc: Y.Doc,
  type: DocType | null,
  form: DocForm,
  since: Uint8Array | null,
): Uint8Array | DocJson {
  if (form === 'state-vector') return Y.encodeStateVector(doc)
  if (form === 'json') return documentJson(doc, type)
  if (since === null) return Y.encodeStateAsUpdate(doc)
  try {
    return Y.encodeStateAsUpdate(doc, since)
  } catch {
    throw new VivimError(ErrorCode.BadRequest, 'since is not a Yjs state vector')
  }
}

/** A typed document's roots as JSON; a free-form document has no schema to say what its roots are. */
export function documentJson(doc: Y.Doc, type: DocType | null): DocJson {
  if (type === null) {
    throw new VivimError(ErrorCode.BadRequest, 'only typed documents have a JSON form; read this one as a Yjs update')
  }
  const json: DocJson = {}
  for (const [name, root] of Object.entries(DocSchemas[type])) {
    json[name] = (root.kind === 'array' ? doc.getArray(name) : doc.getMap(name)).toJSON()
  }
  return json
}

/** An HTTP write is admitted as a socket's connect is: it may write, and its DID is not waiting out a refusal. */
export function admitWrite(access: Access, waitMs: number): void {
  if (!access.canWrite) throw new VivimError(ErrorCode.Forbidden, 'this credential may not write the document')
  if (waitMs > 0) {
    throw new VivimError(
      ErrorCode.RateLimited,
      `a write of this identity was refused; wait ${Math.ceil(waitMs / 1000)} s`,
    )
  }
}

/** A refused write as the HTTP error of the same meaning as the socket's close code. */
export function refusalError(refusal: Refusal): VivimError {
  const code =
    refusal.code === CloseCode.Forbidden
      ? ErrorCode.Forbidden
      : refusal.code === CloseCode.DocumentTooLarge
        ? ErrorCode.PayloadTooLarge
        : ErrorCode.BadRequest
  return new VivimError(code, `the document refused the update: ${refusal.reason}`)
}

/**
 * Only the owner deletes: the owner's own invocation that may write (not a grant, even `admin`: a
 * delete cannot be undone). A development request without a DID may, as it may do anything.
 */
export function requireOwner(access: Access, owner: string | null): void {
  const mayDelete = access.did === null ? access.canAdmin === true : access.did === owner && access.canWrite
  if (!mayDelete) throw new VivimError(ErrorCode.Forbidden, 'only the owner deletes a document')
}
