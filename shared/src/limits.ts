/**
 * Size and time limits shared by every part, so the edge, the bridge and the
 * SDK refuse the same inputs. Sizes are in bytes, times in milliseconds.
 */
export const Limits = {
  /** Largest single WebSocket frame or libp2p stream message. */
  maxFrameBytes: 1 << 20,
  /** Frames a socket may send per second, sustained. */
  maxFramesPerSecond: 500,
  /** Frames a socket may send in a burst above the sustained rate. */
  frameBurst: 1000,
  /** Largest HTTP request body the edge reads. */
  maxRequestBodyBytes: 256 * 1024,
  /** Largest encoded content record (value, providers and signature included). */
  maxRecordBytes: 128 * 1024,
  /** Largest `value` inside a content record. */
  maxRecordValueBytes: 64 * 1024,
  /** Longest record key, in UTF-8 bytes. */
  maxRecordKeyBytes: 512,
  /** Most provider entries a record may list. */
  maxRecordProviders: 32,
  /** Longest provider entry (a DID or a libp2p peer id). */
  maxProviderBytes: 128,
  /** Longest topic name, in UTF-8 bytes. */
  maxTopicNameBytes: 256,
  /** Largest encoded state of one Yjs document. */
  maxDocumentBytes: 16 * 1024 * 1024,
  /** How far in the future a signed timestamp may be before it is refused. */
  maxClockSkewMs: 5 * 60 * 1000,
} as const

export type Limits = typeof Limits
