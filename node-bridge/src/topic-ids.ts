/**
 * How the mesh names a Gossipsub message: SHA-256 of its data, the
 * envelope's canonical bytes. The same envelope published by any bridge, or
 * coming back from the edge, has the same bytes and so the same id, and
 * Gossipsub's seen cache drops the copy. It is computed for every copy a
 * peer receives (several per message in a mesh), so it is a native hash of
 * the bytes rather than a decode; the VIVIM message id (`messageId`, what
 * the edge dedups on) is taken once, by the topic bridge, for messages that
 * passed validation.
 *
 * @example
 * ```ts
 * gossipsub({ msgIdFn: gossipMessageId })
 * ```
 */
import { createHash } from 'node:crypto'
import type { Message } from '@libp2p/gossipsub'
import { decodeEnvelope, messageId } from '@vivim/shared'

/** The Gossipsub message id: SHA-256 of the data, so every network names a message the same. */
export function gossipMessageId(message: Pick<Message, 'data'>): Uint8Array {
  return createHash('sha256').update(message.data).digest()
}

const NO_DATA = new Uint8Array(0)

/**
 * Gossipsub's fast message id (`fastMsgIdFn`): the same SHA-256 of the data,
 * as a string, taken from the wire message before anything else. Gossipsub
 * checks it against the copies it has already accepted BEFORE it verifies
 * libp2p's signature; without it every duplicate copy (a peer receives each
 * message from several mesh peers) costs a full Ed25519 verification only to
 * be dropped. It is recorded only for a copy that passed that verification,
 * so a forged copy cannot make the genuine one look like a duplicate.
 */
export function gossipFastMessageId(message: { data?: Uint8Array }): string {
  return createHash('sha256')
    .update(message.data ?? NO_DATA)
    .digest('base64')
}

/** The VIVIM message id of bytes that decode as an envelope, or `null`. */
export function envelopeIdOf(data: Uint8Array): string | null {
  try {
    return messageId(decodeEnvelope(data))
  } catch {
    return null
  }
}
