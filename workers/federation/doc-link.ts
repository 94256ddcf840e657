/**
 * How federation reads and writes a local document: through the document
 * room's own RPC methods (`remoteState`, `remoteUpdate` in
 * `relay/doc-room.ts`), which run every check a client's write gets (size,
 * schema, the Yjs clients it writes with) and answer only once what they
 * were given is stored, so an acknowledgement to a peer is a true one.
 * Refusals arrive as `VivimError`s with their codes (`unwrap`).
 *
 * @example
 * ```ts
 * await applyDocUpdate(env, 'conversation:c1', update)
 * const { stateVector, diff } = await docState(env, 'conversation:c1', theirStateVector)
 * ```
 */
import { unwrap } from '@vivim/shared'
import type { RemoteState } from '../relay/doc-live.ts'

/** The document's state vector, and what it holds beyond `since` when given (an empty update if nothing). */
export async function docState(env: Env, docId: string, since: Uint8Array | null = null): Promise<RemoteState> {
  return unwrap(await env.DOC_ROOM.getByName(docId).remoteState(docId, since))
}

/** Applies `origin`'s update as a client's write; resolves once it is stored. It is not sent back to `origin`. */
export async function applyDocUpdate(env: Env, docId: string, update: Uint8Array, origin: string): Promise<void> {
  unwrap(await env.DOC_ROOM.getByName(docId).remoteUpdate(docId, update, origin))
}
