/**
 * Signed server-to-server requests (`shared/src/federation-request.ts`):
 * `sendSigned` signs what this instance sends; `verifySigned` decides
 * whether a request came from an admitted instance, fresh and not replayed,
 * before anything acts on it. Checks run cheapest first, and every check
 * this instance can make alone (signature, lists, time, nonce) runs before
 * the one that may need the sender's descriptor from the network: a
 * request with a bad signature, or one already received, never makes this
 * instance fetch anything, and a fetch for a domain not in the discovery
 * cache is paid from the caller's budget first (`callerBudget`). The nonce
 * is remembered once the signature verifies for its `keyid`, so only that
 * key's holder can have used it: a refused request burns no one else's.
 *
 * `signRequest` is the one place the edge signs an outgoing request: federation's
 * requests (`sendSigned`) and webhook deliveries (`../webhooks/`) both carry
 * its headers, so a receiver checks both the same way.
 *
 * @example
 * ```ts
 * const res = await sendSigned(env, 'b.example', { method: 'POST', path: FEDERATION_INBOX_PATH, body })
 * // on b.example:
 * const { peer, body } = await verifySigned(c.env, c.req.raw)
 * ```
 */
import { randomBytes } from '@noble/hashes/utils.js'
import { base64urlnopad } from '@scure/base'
import {
  contentDigest,
  contentDigestMatches,
  ErrorCode,
  endpointOf,
  FEDERATION_ORIGIN_HEADER,
  FEDERATION_SIGNATURE_LABEL,
  FEDERATION_SIGNED_COMPONENTS,
  type HttpMessage,
  type Identity,
  Limits,
  parseDomain,
  publicKeyFromDid,
  signMessage,
  VivimError,
  verifyMessage,
} from '@vivim/shared'
import { edgeIdentity } from '../auth/edge-identity.ts'
import { admits, type FederationConfig, federatesWith, federationConfig } from './config.ts'
import { callerBudget, descriptorOf } from './discovery.ts'
import { nonceHub } from './nonce-ledger.ts'

export interface SignedInit {
  readonly method: 'GET' | 'POST'
  readonly path: string
  readonly body?: Uint8Array
}

/** The instance a verified request came from. */
export interface Peer {
  readonly did: string
  readonly domain: string
}

const EMPTY = new Uint8Array(0)

function httpMessage(request: { method: string; url: string; headers: Headers }): HttpMessage {
  return { method: request.method, url: request.url, header: (name) => request.headers.get(name) }
}

export function requireFederation(env: Env): FederationConfig {
  const config = federationConfig(env)
  if (config === null) throw new VivimError(ErrorCode.NotFound, 'this instance does not federate')
  return config
}

/** A request to sign: where it goes, its body, who sends it. */
export interface RequestToSign {
  readonly method: 'GET' | 'POST'
  /** The absolute URL it is sent to. */
  readonly url: string
  readonly body: Uint8Array
  /** The sender's domain, sent as `Vivim-Origin`. */
  readonly origin: string
  readonly contentType: string
}

/**
 * The headers of a request signed by `identity` (`docs/federation.md`, Signed
 * requests): `Content-Digest`, `Vivim-Origin`, `Content-Type`, and the RFC 9421
 * `Signature-Input` and `Signature` (label `sig1`, the components of
 * `FEDERATION_SIGNED_COMPONENTS`, `created`, a 16-byte nonce, `alg="ed25519"`,
 * `keyid` the identity's DID). Federation and webhooks both sign with it.
 *
 * @example
 * ```ts
 * const headers = signRequest(edgeIdentity(env), { method: 'POST', url, body, origin: 'a.example', contentType: 'application/json' })
 * await fetch(url, { method: 'POST', headers, body })
 * ```
 */
export function signRequest(identity: Identity, request: RequestToSign): Headers {
  const headers = new Headers({
    'Content-Digest': contentDigest(request.body),
    [FEDERATION_ORIGIN_HEADER]: request.origin,
    'Content-Type': request.contentType,
  })
  const signed = signMessage(identity, httpMessage({ method: request.method, url: request.url, headers }), {
    label: FEDERATION_SIGNATURE_LABEL,
    components: FEDERATION_SIGNED_COMPONENTS,
    nonce: base64urlnopad.encode(randomBytes(16)),
    alg: 'ed25519',
    keyid: identity.did,
  })
  headers.set('Signature-Input', signed['signature-input'])
  headers.set('Signature', signed.signature)
  return headers
}

/** Sends a signed request to another instance; the response is the caller's to read. */
export async function sendSigned(env: Env, domain: string, init: SignedInit): Promise<Response> {
  const config = requireFederation(env)
  const body = init.body ?? EMPTY
  const url = `${endpointOf(domain, config.allowHttp)}${init.path}`
  const headers = signRequest(edgeIdentity(env), {
    method: init.method,
    url,
    body,
    origin: config.domain,
    contentType: 'application/cbor',
  })
  return fetch(url, {
    method: init.method,
    headers,
    body: init.method === 'GET' ? undefined : body,
    redirect: 'manual',
    signal: AbortSignal.timeout(Limits.federationRequestTimeoutMs),
  })
}

/**
 * Verifies a federation request and returns its sender and body; throws a
 * `VivimError` saying why not. A `transaction` (an inbox request) must also
 * come from an instance this one federates with (`federatesWith`).
 */
export async function verifySigned(
  env: Env,
  request: Request,
  options: { transaction?: boolean } = {},
): Promise<{ peer: Peer; body: Uint8Array }> {
  const config = requireFederation(env)
  if (!request.headers.has('Signature-Input') || !request.headers.has('Signature')) {
    throw new VivimError(ErrorCode.SignatureRequired, 'federation requests are signed (RFC 9421)')
  }
  const body = new Uint8Array(await request.arrayBuffer())
  if (body.length > Limits.maxFederationTransactionBytes) {
    throw new VivimError(ErrorCode.PayloadTooLarge, `at most ${Limits.maxFederationTransactionBytes} bytes`)
  }
  if (!contentDigestMatches(request.headers.get('Content-Digest'), body)) {
    throw new VivimError(ErrorCode.DigestMismatch, 'Content-Digest is missing or not the sha-256 of the body')
  }
  const origin = request.headers.get(FEDERATION_ORIGIN_HEADER)
  if (origin === null) throw new VivimError(ErrorCode.BadRequest, `the ${FEDERATION_ORIGIN_HEADER} header is required`)
  const domain = parseDomain(origin)
  const verified = await verifyMessage(httpMessage(request), {
    label: FEDERATION_SIGNATURE_LABEL,
    required: FEDERATION_SIGNED_COMPONENTS,
    publicKeyOf: (keyid) => publicKeyFromDid(keyid),
  })
  const { keyid = '', created, expires, nonce, alg } = verified.params
  // verifyMessage takes a signature without `alg`; this protocol names it, so nothing is left to guess.
  if (alg !== 'ed25519') throw new VivimError(ErrorCode.InvalidSignature, 'the signature must say alg="ed25519"')
  if (!admits(config, domain, keyid)) throw new VivimError(ErrorCode.InstanceBlocked, `${domain} may not federate here`)
  if (options.transaction && !federatesWith(config, domain, keyid)) {
    throw new VivimError(ErrorCode.InstanceBlocked, `${domain} is neither a peer of this instance nor allowed`)
  }
  const now = Date.now()
  if (created === undefined || Math.abs(now - created * 1000) > Limits.maxFederationRequestAgeMs) {
    throw new VivimError(ErrorCode.RequestStale, 'the signature is too old, too new, or has no creation time')
  }
  if (expires !== undefined && expires * 1000 <= now) {
    throw new VivimError(ErrorCode.RequestStale, 'the signature has expired')
  }
  if (nonce === undefined || nonce.length < 22 || nonce.length > 128) {
    throw new VivimError(ErrorCode.InvalidSignature, 'the signature needs a nonce of at least 16 bytes')
  }
  // Before the descriptor, which may be fetched: a replay is refused without one.
  const until = created * 1000 + Limits.maxFederationRequestAgeMs
  if (!(await nonceHub(env, keyid, nonce).firstUse(keyid, nonce, until))) {
    throw new VivimError(ErrorCode.RequestReplayed, 'this signed request was received before')
  }
  const descriptor = await descriptorOf(env, domain, callerBudget(env, request))
  if (descriptor.did !== keyid) {
    throw new VivimError(ErrorCode.UnknownInstance, `the request is not signed by the instance at ${domain}`)
  }
  return { peer: { did: keyid, domain }, body }
}
