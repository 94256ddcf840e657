/**
 * Documents over HTTP as a test drives them: requests to the edge's fetch
 * handler with a user's credential for one document (`docToken`), the
 * document as a read returns it, and updates made on a replica of it, as a
 * client that read the document over HTTP would make them.
 */
import { exports } from 'cloudflare:workers'
import { type Action, defineRoots, type Identity, parseDocId } from '@vivim/shared'
import * as Y from 'yjs'
import { docToken } from './doc-tokens.ts'
import { EDGE } from './socket-peer.ts'

/** Who calls, with which actions on the document, granted by `owner` (self-issued when the caller is the owner). */
export interface Caller {
  readonly owner: Identity
  readonly user: Identity
  readonly can: Action[]
}

/** `path` under `/v1/docs/<docId>` (`/update`, `/json`, `''`), called by `caller` (no credential when null). */
export function docHttp(docId: string, path: string, caller: Caller | null, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers)
  if (caller !== null) headers.set('Authorization', `Bearer ${docToken(caller.owner, caller.user, docId, caller.can)}`)
  return exports.default.fetch(new Request(`${EDGE}/v1/docs/${docId}${path}`, { ...init, headers }))
}

/** Posts `update` to the document as `caller`. */
export function postUpdate(docId: string, caller: Caller | null, update: Uint8Array): Promise<Response> {
  return docHttp(docId, '/update', caller, {
    method: 'POST',
    body: update,
    headers: { 'content-type': 'application/octet-stream' },
  })
}

/** The document as `GET …/update` returns it, in a Y.Doc with its type's roots. */
export async function readDoc(docId: string, caller: Caller | null): Promise<Y.Doc> {
  const res = await docHttp(docId, '/update', caller)
  if (res.status !== 200) throw new Error(`read ${docId}: ${res.status} ${await res.text()}`)
  const doc = new Y.Doc()
  const { type } = parseDocId(docId)
  if (type !== null) defineRoots(doc, type)
  Y.applyUpdate(doc, new Uint8Array(await res.arrayBuffer()))
  return doc
}

/**
 * The update a replica of `base` makes by `change`, writing with Yjs client `clientId` when given
 * (set after the copy: a replica that receives structs of its own client id picks a new one).
 */
export function editOf(base: Y.Doc, change: (doc: Y.Doc) => void, clientId?: number): Uint8Array {
  const replica = new Y.Doc()
  Y.applyUpdate(replica, Y.encodeStateAsUpdate(base))
  if (clientId !== undefined) replica.clientID = clientId
  const before = Y.encodeStateVector(replica)
  change(replica)
  return Y.encodeStateAsUpdate(replica, before)
}

/** An HTTP error's status and code. */
export async function refused(res: Response | Promise<Response>): Promise<{ status: number; code: string }> {
  const answer = await res
  const body = (await answer.json()) as { error?: { code?: string } }
  return { status: answer.status, code: body.error?.code ?? '' }
}
