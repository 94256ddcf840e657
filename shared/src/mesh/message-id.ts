/**
 * How the mesh names a Gossipsub message: SHA-256 of its data, the envelope's
 * canonical bytes. The same envelope published by any peer, or coming back
 * from the edge, has the same bytes and so the same id, and Gossipsub's seen
 * cache drops the copy. Every peer must name messages alike, since the ids
 * travel in Gossipsub's IHAVE and IWANT: the bridge hashes with Node's
 * native SHA-256 (`node-bridge/src/topic-ids.ts`, many copies a second),
 * browsers with WebCrypto's, and both are checked against this one.
 *
 * @example
 * ```ts
 * gossipsub({ msgIdFn: (message) => gossipMessageIdAsync(message) })
 * ```
 */
import { sha256 } from '@noble/hashes/sha2.js'

/** The Gossipsub message id, computed synchronously (the reference; fine for a few messages a second). */
export function gossipMessageIdOf(data: Uint8Array): Uint8Array {
  return sha256(data)
}

/** The part of `SubtleCrypto` used here (the shared package is typed without the DOM). */
interface Digest {
  digest(algorithm: 'SHA-256', data: Uint8Array): Promise<ArrayBuffer>
}

/**
 * The Gossipsub message id by the platform's WebCrypto where it has one (every current browser),
 * for Gossipsub's `msgIdFn`; the same bytes as `gossipMessageIdOf`.
 */
export async function gossipMessageIdAsync(message: { data: Uint8Array }): Promise<Uint8Array> {
  const subtle = (globalThis as { crypto?: { subtle?: Digest } }).crypto?.subtle
  if (subtle === undefined) return gossipMessageIdOf(message.data)
  return new Uint8Array(await subtle.digest('SHA-256', message.data))
}
