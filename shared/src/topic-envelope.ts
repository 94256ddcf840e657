/**
 * Signed topic messages. Wire form: the canonical encoding of a map with the
 * fields of `TopicEnvelope`. The signature is Ed25519 by `author` over the
 * canonical encoding of the other fields plus `v: "vivim-topic/1"`; the
 * message id is the SHA-256 of those signing bytes (base64url), so every
 * network that relays a message (edge, Gossipsub, federation) names it the
 * same and can drop the copies that come back round.
 *
 * @example
 * ```ts
 * import { createEnvelope, messageId, validateEnvelope } from '@vivim/shared'
 * const env = createEnvelope(alice, { topic: 'circle:messages:c1', payload: utf8ToBytes('hi') })
 * await validateEnvelopeAsync(env) // rejects with a VivimError if anything is wrong
 * validateEnvelope(env)            // the same checks, synchronously (noble)
 * messageId(env)        // 'b64url…'
 * ```
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { randomBytes } from '@noble/hashes/utils.js'
import { base64urlnopad } from '@scure/base'
import { decodeCanonical, encodeCanonical } from './canonical.ts'
import { ErrorCode, VivimError } from './errors.ts'
import { type Did, type Identity, isDid, sign, verify, verifyAsync } from './identity.ts'
import { Limits } from './limits.ts'
import { parseTopic } from './topic-name.ts'

/** The domain tag (`v`) of a topic message's signing bytes. */
export const TOPIC_DOMAIN = 'vivim-topic/1'

/** A signed topic message (`docs/protocol.md`, Topics). */
export interface TopicEnvelope {
  readonly topic: string
  readonly payload: Uint8Array
  readonly author: Did
  /** Milliseconds since the Unix epoch, set by the author. */
  readonly timestamp: number
  /** 16 random bytes, so two equal payloads in one millisecond are two messages. */
  readonly nonce: Uint8Array
  readonly signature: Uint8Array
}

/** What `createEnvelope` needs; the timestamp defaults to now. */
export interface EnvelopeInit {
  topic: string
  payload: Uint8Array
  timestamp?: number
}

/** Creates and signs a topic message by `author`, with a random nonce. */
export function createEnvelope(author: Identity, init: EnvelopeInit): TopicEnvelope {
  const unsigned = {
    topic: init.topic,
    payload: init.payload,
    author: author.did,
    timestamp: init.timestamp ?? Date.now(),
    nonce: randomBytes(16),
  }
  return { ...unsigned, signature: sign(author, envelopeSigningBytes(unsigned)) }
}

/** The bytes a message's signature covers, and whose SHA-256 is its id. */
export function envelopeSigningBytes(e: Omit<TopicEnvelope, 'signature'>): Uint8Array {
  return encodeCanonical({
    v: TOPIC_DOMAIN,
    topic: e.topic,
    payload: e.payload,
    author: e.author,
    timestamp: e.timestamp,
    nonce: e.nonce,
  })
}

/** The message id: base64url SHA-256 of the signing bytes. */
export function messageId(e: TopicEnvelope): string {
  return idOfSigningBytes(envelopeSigningBytes(e))
}

const idOfSigningBytes = (signed: Uint8Array) => base64urlnopad.encode(sha256(signed))

/** A message's wire form: the canonical encoding of its six fields. */
export function encodeEnvelope(e: TopicEnvelope): Uint8Array {
  return encodeCanonical({ ...e })
}

/** Decodes a message and checks its shape (not its signature: `validateEnvelope`). */
export function decodeEnvelope(bytes: Uint8Array): TopicEnvelope {
  if (bytes.length > Limits.maxTopicEnvelopeBytes) {
    throw new VivimError(ErrorCode.PayloadTooLarge, `a topic message is at most ${Limits.maxTopicEnvelopeBytes} bytes`)
  }
  return envelopeFrom(decodeCanonical(bytes))
}

const FIELDS = ['author', 'nonce', 'payload', 'signature', 'timestamp', 'topic']

/** Checks that a decoded value has exactly an envelope's shape. */
export function envelopeFrom(value: unknown): TopicEnvelope {
  const r = value as Record<string, unknown>
  const ok =
    typeof value === 'object' &&
    value !== null &&
    Object.keys(r).sort().join() === FIELDS.join() &&
    typeof r.topic === 'string' &&
    r.payload instanceof Uint8Array &&
    typeof r.author === 'string' &&
    Number.isSafeInteger(r.timestamp) &&
    (r.timestamp as number) >= 0 &&
    r.nonce instanceof Uint8Array &&
    r.nonce.length === 16 &&
    r.signature instanceof Uint8Array
  if (!ok) throw new VivimError(ErrorCode.InvalidEnvelope, `a topic message is a map of exactly: ${FIELDS.join(', ')}`)
  return value as TopicEnvelope
}

/** How `validateEnvelope` checks a message. */
export interface EnvelopeCheck {
  /** The validator's clock, ms since the epoch. */
  now?: number
  /** The topic the message must be for. */
  topic?: string
  /** Messages older than this many ms are refused as stale (they may no longer be deduplicated). */
  maxAgeMs?: number
}

/**
 * Full validation, cheapest rule first; throws a `VivimError` naming the rule.
 * Synchronous: the signature is checked with `@noble/curves` (`verify`).
 * `validateEnvelopeAsync` runs the same rules with the platform's native
 * verifier, the same verdicts, several times faster where there is one.
 */
export function validateEnvelope(e: TopicEnvelope, check: EnvelopeCheck = {}): void {
  checkEnvelopeFields(e, check)
  if (!verify(e.author, envelopeSigningBytes(e), e.signature)) {
    throw new VivimError(ErrorCode.InvalidSignature, 'message signature does not verify for its author')
  }
}

/**
 * `validateEnvelope` with the signature checked by `verifyAsync` (native where the platform can);
 * rejects with a `VivimError`. Resolves to the message id, from the signing bytes it encoded anyway.
 */
export async function validateEnvelopeAsync(e: TopicEnvelope, check: EnvelopeCheck = {}): Promise<string> {
  checkEnvelopeFields(e, check)
  const signed = envelopeSigningBytes(e)
  if (!(await verifyAsync(e.author, signed, e.signature))) {
    throw new VivimError(ErrorCode.InvalidSignature, 'message signature does not verify for its author')
  }
  return idOfSigningBytes(signed)
}

function checkEnvelopeFields(e: TopicEnvelope, check: EnvelopeCheck): void {
  envelopeFrom(e)
  parseTopic(e.topic)
  if (check.topic !== undefined && e.topic !== check.topic) {
    throw new VivimError(ErrorCode.InvalidEnvelope, `message is for ${e.topic}, not ${check.topic}`)
  }
  if (e.payload.length > Limits.maxTopicPayloadBytes) {
    throw new VivimError(ErrorCode.ValueTooLarge, `a topic payload is at most ${Limits.maxTopicPayloadBytes} bytes`)
  }
  if (!isDid(e.author)) throw new VivimError(ErrorCode.InvalidDid, 'message author is not a did:key DID')
  const now = check.now ?? Date.now()
  if (e.timestamp > now + Limits.maxClockSkewMs) {
    throw new VivimError(ErrorCode.TimestampInFuture, 'message timestamp is ahead of this node’s clock')
  }
  if (check.maxAgeMs !== undefined && e.timestamp < now - check.maxAgeMs) {
    throw new VivimError(ErrorCode.StaleRecord, 'message is older than the topic’s history window')
  }
}
