import { utf8ToBytes } from '@noble/hashes/utils.js'

/**
 * WebSocket close codes of every VIVIM endpoint. The 1xxx codes are RFC 6455's
 * own; the 4xxx codes (the range RFC 6455 leaves to applications) mirror the
 * HTTP status of the same meaning, so 4429 reads as "429, on a socket". A
 * client SHOULD NOT reconnect on 4400-4499 without changing what it sends,
 * except 4429 (back off) and 4408 (token expired: refresh it).
 */
export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  /** A text frame where only binary frames are spoken. */
  UnsupportedData: 1003,
  /** A frame larger than `Limits.maxFrameBytes`. */
  MessageTooBig: 1009,
  InternalError: 1011,
  /** A frame that is not in the endpoint's protocol, or that fails to decode. */
  BadFrame: 4400,
  Unauthorized: 4401,
  /** A write or an act the socket's credential does not allow. */
  Forbidden: 4403,
  /** The socket's credential expired while it was open. */
  TokenExpired: 4408,
  /**
   * The document's owner deleted it (`DELETE /v1/docs/<docId>`): its content is gone, so a client
   * must not reconnect and write its copy back; like HTTP's 410 Gone, the name stays its owner's.
   */
  DocumentDeleted: 4410,
  /** The write would make the document larger than `Limits.maxDocumentBytes`. */
  DocumentTooLarge: 4413,
  /** A Yjs update that cannot be applied, or that breaks the document type's schema. */
  InvalidUpdate: 4422,
  /** More frames than the per-socket rate allows. */
  RateLimited: 4429,
  /** A subscriber too slow to keep up with the room. */
  TooSlow: 4430,
} as const

export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode]

/** Close reasons are UTF-8 and at most 123 bytes (RFC 6455 §5.5); longer ones are cut. */
export function closeReason(text: string): string {
  let chars = Array.from(text)
  while (utf8ToBytes(chars.join('')).length > 123) chars = chars.slice(0, -1)
  return chars.join('')
}
