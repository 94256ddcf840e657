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
  /** Largest payload of one topic message. */
  maxTopicPayloadBytes: 64 * 1024,
  /** Largest encoded topic message (payload, signature and the rest). */
  maxTopicEnvelopeBytes: 66 * 1024,
  /** Most messages a topic room keeps for resume. */
  maxTopicHistoryMessages: 10_000,
  /** Messages a subscriber may have unacknowledged before it is dropped as too slow. */
  maxTopicUnacked: 2_000,
  /** Largest WebRTC signaling message (an SDP offer is a few KiB). */
  maxSignalingMessageBytes: 64 * 1024,
  /** Most signaling rooms one connection may join. */
  maxSignalingTopics: 64,
  /** Largest encoded capability token, proofs included. */
  maxCapabilityBytes: 16 * 1024,
  /** Most links in a delegation chain. */
  maxCapabilityChain: 8,
  /** Largest encoded state of one Yjs document. */
  maxDocumentBytes: 16 * 1024 * 1024,
  /** How far in the future a signed timestamp may be before it is refused. */
  maxClockSkewMs: 5 * 60 * 1000,
  /** Most live providers listed for one key; a new announcement past it drops the one expiring soonest. */
  maxProvidersPerKey: 64,
  /** Most multiaddrs one provider announcement may carry. */
  maxProviderMultiaddrs: 16,
  /** Longest multiaddr, in its string form. */
  maxMultiaddrBytes: 256,
  /** Longest a provider announcement lives before it must be renewed. */
  maxProviderTtlMs: 24 * 60 * 60 * 1000,
  /** Longest search text (`q`), in UTF-8 bytes. */
  maxSearchQueryBytes: 256,
  /** Most terms a search text may hold. */
  maxSearchTerms: 16,
  /** Most results in one page of search or discovery. */
  maxPageSize: 50,
  /** Results in a page when the request does not say. */
  defaultPageSize: 20,
  /** Longest pagination cursor, in characters. */
  maxCursorBytes: 1024,
  /** Largest federation transaction (one signed server-to-server request body). */
  maxFederationTransactionBytes: 192 * 1024,
  /** Largest instance descriptor (`/.well-known/vivim`), in bytes of JSON. */
  maxDescriptorBytes: 16 * 1024,
  /** Most peer domains one descriptor lists, and the most instances one discovery returns. */
  maxFederationPeers: 64,
  /** How old (or how far in the future) a signed federation request may be. */
  maxFederationRequestAgeMs: 5 * 60 * 1000,
  /** Longest an instance descriptor is valid after it is issued, and longest a discovery result is cached. */
  maxDescriptorTtlMs: 60 * 60 * 1000,
  /** How long a domain that could not be discovered is not asked again. */
  federationFailureTtlMs: 30 * 1000,
  /** Longest one federation request may take before it counts as failed. */
  federationRequestTimeoutMs: 10 * 1000,
  /** Longest a record lookup waits for federated peers before it answers `not found`. */
  federationLookupTimeoutMs: 3 * 1000,
  /** Most transactions one destination's outbox holds; past it new ones are refused, never old ones dropped. */
  maxOutboxTransactions: 100_000,
  /** Updates in a row a socket may send whose dependencies the room lacks, before it is closed (4422). */
  maxIncompleteUpdates: 16,
  /** Yjs client ids one update may introduce to a document (each costs the room a row of ownership). */
  maxNewClientsPerUpdate: 256,
  /** How long an identity whose write a document room refused waits before the room admits it again. */
  refusedWriterWaitMs: 10_000,
  /** Sockets one identity (DID, or one development-mode credential) may hold open on one room. */
  maxSocketsPerIdentity: 16,
  /** Largest awareness (presence) state of one client, in characters of JSON. */
  maxAwarenessStateBytes: 8 * 1024,
  /** Most awareness client ids one socket may speak for. */
  maxAwarenessIdsPerSocket: 4,
  /** Most characters of awareness state JSON one room holds (so a joiner's snapshot stays within about this size). */
  maxAwarenessRoomBytes: 512 * 1024,
  /** Topic messages one publisher (a socket, or one identity over HTTP) may publish per second, sustained. */
  maxTopicPublishesPerSecond: 200,
  /** Topic messages one publisher may publish in a burst above the sustained rate. */
  topicPublishBurst: 400,
  /** Publishes to a topic wait while a reader that still acknowledges is this many messages behind. */
  maxTopicReaderLag: 1_500,
  /**
   * How often the SDK's readers acknowledge a topic: every this many messages. Each ack is a frame
   * the room must take in, so a busy topic with many readers would spend more on acks than on
   * messages if readers acknowledged every few; a third of `maxTopicReaderLag` keeps a reader that
   * keeps up well clear of holding publishers back.
   */
  topicAckEvery: 500,
  /** Most message ids a topic room remembers for deduplication; past it, older timestamps are refused. */
  maxTopicSeenIds: 100_000,
  /**
   * Readers one topic object serves: past it a topic's room hands new subscribers to fan-out
   * objects (`<topic>#<k>`), each serving as many, while it keeps verifying and storing every
   * message once. `TOPIC_READERS_PER_OBJECT` sets another number for a deployment.
   */
  topicReadersPerObject: 500,
  /** Signaling bytes one socket may send per second, sustained. */
  maxSignalingBytesPerSecond: 64 * 1024,
  /** Signaling bytes one socket may send in a burst above the sustained rate. */
  signalingByteBurst: 256 * 1024,
} as const

export type Limits = typeof Limits
