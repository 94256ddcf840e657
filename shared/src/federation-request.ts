/**
 * How federated instances address each other over HTTP. Every request (even
 * a GET, whose digest is of the empty body) carries `Content-Digest`,
 * `Vivim-Origin` (the sender's domain) and an RFC 9421 signature
 * (`http-signature.ts`) labelled `sig1` that covers exactly
 * `FEDERATION_SIGNED_COMPONENTS` with the parameters `created` (seconds),
 * `nonce` (at least 16 random bytes, base64url), `alg="ed25519"` and
 * `keyid` (the sender's DID, whose key signs):
 *
 *   POST /v1/federation/inbox          body: a transaction (`federation-transaction.ts`)
 *   GET  /v1/federation/records/<key>  a record this instance holds itself, canonical CBOR, or 404
 *
 * The receiver refuses a request whose signature is missing
 * (`signature_required`), does not verify or covers less
 * (`invalid_signature`), whose digest is wrong (`digest_mismatch`), that is
 * older or newer than `Limits.maxFederationRequestAgeMs` (`request_stale`),
 * whose nonce it has seen (`request_replayed`), from a blocked or not
 * allowed instance (`instance_blocked`), or whose keyid is not the DID of the
 * descriptor its origin domain serves (`unknown_instance`). The inbox takes
 * transactions only from the receiver's configured peers and allowed
 * instances (`instance_blocked` for any other).
 *
 * @example
 * ```ts
 * signMessage(edge, message, { components: FEDERATION_SIGNED_COMPONENTS, nonce, alg: 'ed25519', keyid: edge.did })
 * ```
 */

export const FEDERATION_SIGNED_COMPONENTS: readonly string[] = [
  '@method',
  '@authority',
  '@path',
  '@query',
  'content-digest',
  'vivim-origin',
]

/** The header naming the sending instance's domain. */
export const FEDERATION_ORIGIN_HEADER = 'vivim-origin'
/** Where an instance takes transactions. */
export const FEDERATION_INBOX_PATH = '/v1/federation/inbox'
/** The prefix of federated record lookups (`…/records/<key>`). */
export const FEDERATION_RECORDS_PATH = '/v1/federation/records/'
/** The signature label federation requests use. */
export const FEDERATION_SIGNATURE_LABEL = 'sig1'

/**
 * How often one caller may ask an instance to discover (`GET /v1/federation/discover`):
 * each discovery may fetch up to `Limits.maxFederationPeers` descriptors from other
 * domains, so an open endpoint would let anyone make an instance fetch on their behalf.
 */
export const DISCOVER_RATE_LIMIT = { requests: 30, windowMs: 60_000 } as const
