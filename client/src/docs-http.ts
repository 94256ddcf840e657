/**
 * Documents over HTTP (`docs/protocol.md`, Documents over HTTP), for code
 * that needs no live document: a server rendering a conversation, a script
 * appending to one, an app deleting one. The same capabilities as the
 * document's socket apply: reads need `read`, a write `write` and every
 * check a socket's write gets, and deleting the owner's own credential.
 * Nothing here creates a document: one that no socket has opened, or that
 * was deleted, is `not_found`.
 *
 * @example
 * ```ts
 * const target = { edge: 'http://127.0.0.1:8787', docId: 'conversation:c1', token }
 * const doc = new Y.Doc()
 * Y.applyUpdate(doc, await readDocument(target))
 * const { messages } = await readDocumentJson<{ messages: ConversationMessage[] }>(target)
 * const before = Y.encodeStateVector(doc)
 * Conversation.append(doc, { id: 'm9', author: me.did, text: 'hi', ts: Date.now() })
 * await writeDocument(target, Y.encodeStateAsUpdate(doc, before))
 * ```
 */
import { ErrorCode, VivimError } from '@vivim/shared'
import { fromBase64UrlEncoded, toBase64UrlEncoded } from 'lib0/buffer'
import { edgeUrls, request, type TokenSource } from './http.ts'

/** Which document, on which edge, with which credential. */
export interface DocumentTarget {
  /** The edge, `http(s)://host` (or `ws(s)://host`). */
  readonly edge: string
  readonly docId: string
  /** A credential for `doc:<docId>`; none in development mode. */
  readonly token?: TokenSource
}

/** A typed document as JSON: each root of its schema by name (`messages` and `meta` for a conversation). */
export type DocumentJson = Record<string, unknown>

/** What the edge answers a write with, once the update is stored. */
export interface DocumentWritten {
  /**
   * False when part of the update depended on content the document lacks and was dropped: send
   * `Y.encodeStateAsUpdate(doc, stateVector)` to complete it.
   */
  readonly complete: boolean
  /** The document's state vector after the write. */
  readonly stateVector: Uint8Array
}

function urlOf(target: DocumentTarget, path: string): string {
  return `${edgeUrls(target.edge).http}/v1/docs/${encodeURIComponent(target.docId)}${path}`
}

/** `request` lets a 404 through (a missing record is an answer there); a missing document is an error. */
async function call(target: DocumentTarget, path: string, init: RequestInit = {}): Promise<Response> {
  const res = await request(urlOf(target, path), init, target.token)
  if (res.status !== 404) return res
  const body = (await res.json().catch(() => null)) as { error?: { message?: string } } | null
  throw new VivimError(ErrorCode.NotFound, body?.error?.message ?? `doc:${target.docId} does not exist`)
}

/**
 * The document as a Yjs update; with `since` (a state vector), only what it lacks.
 *
 * @example
 * ```ts
 * Y.applyUpdate(doc, await readDocument(target, Y.encodeStateVector(doc)))
 * ```
 */
export async function readDocument(target: DocumentTarget, since?: Uint8Array): Promise<Uint8Array> {
  const query = since === undefined ? '' : `?since=${toBase64UrlEncoded(since)}`
  return new Uint8Array(await (await call(target, `/update${query}`)).arrayBuffer())
}

/**
 * The document's state vector: what the edge holds, to send it only what it lacks.
 *
 * @example
 * ```ts
 * await writeDocument(target, Y.encodeStateAsUpdate(doc, await readStateVector(target)))
 * ```
 */
export async function readStateVector(target: DocumentTarget): Promise<Uint8Array> {
  return new Uint8Array(await (await call(target, '/state-vector')).arrayBuffer())
}

/**
 * A typed document (`conversation:`, `circle:`, `profile:`, `settings:`) as JSON; others are `bad_request`.
 *
 * @example
 * ```ts
 * const { displayName } = (await readDocumentJson<{ profile: Record<string, string> }>(target)).profile
 * ```
 */
export async function readDocumentJson<T = DocumentJson>(target: DocumentTarget): Promise<T> {
  return (await (await call(target, '/json')).json()) as T
}

/**
 * Writes one Yjs update; resolves once the edge stored it and sent it to every socket of the document.
 *
 * @example
 * ```ts
 * const written = await writeDocument(target, update)
 * if (!written.complete) await writeDocument(target, Y.encodeStateAsUpdate(doc, written.stateVector))
 * ```
 */
export async function writeDocument(target: DocumentTarget, update: Uint8Array): Promise<DocumentWritten> {
  const init = {
    method: 'POST',
    body: update as Uint8Array<ArrayBuffer>,
    headers: { 'content-type': 'application/octet-stream' },
  }
  const answer = (await (await call(target, '/update', init)).json()) as { complete: boolean; stateVector: string }
  return { complete: answer.complete, stateVector: fromBase64UrlEncoded(answer.stateVector) }
}

/**
 * Deletes the document (its owner only): its content and versions go, its sockets close with 4410
 * (the SDK's providers stop with `not_found`), and its name stays the owner's.
 *
 * @example
 * ```ts
 * await deleteDocument({ edge, docId: 'conversation:c1', token: ownersToken })
 * ```
 */
export async function deleteDocument(target: DocumentTarget): Promise<void> {
  await call(target, '', { method: 'DELETE' })
}
