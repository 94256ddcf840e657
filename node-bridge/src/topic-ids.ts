/**
 * How the mesh names a Gossipsub message: by the VIVIM message id of the
 * signed envelope it carries (`messageId`, SHA-256 of the signing bytes), so
 * an envelope names the same whether it came from the edge, this bridge or
 * another one. Bytes that are not an envelope get a SHA-256 of themselves;
 * the topic validator rejects them anyway.
 *
 * @example
 * ```ts
 * gossipsub({ msgIdFn: gossipMessageId })
 * ```
 */
import { createHash } from 'node:crypto'
import type { Message } from '@libp2p/gossipsub'
import { decodeEnvelope, messageId } from '@vivim/shared'

export function gossipMessageId(message: Message): Uint8Array {
  const id = envelopeIdOf(message.data)
  return id === null ? createHash('sha256').update(message.data).digest() : Buffer.from(id, 'base64url')
}

/** The VIVIM message id of bytes that decode as an envelope, or `null`. */
export function envelopeIdOf(data: Uint8Array): string | null {
  try {
    return messageId(decodeEnvelope(data))
  } catch {
    return null
  }
}
