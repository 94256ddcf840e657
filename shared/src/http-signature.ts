/**
 * HTTP Message Signatures (RFC 9421) with Ed25519, and the `Content-Digest`
 * field (RFC 9530, sha-256): how federated instances sign every request they
 * send each other. One definition of the signature base, so every
 * implementation signs the same bytes.
 *
 *   Content-Digest:  sha-256=:<base64 SHA-256 of the body>:
 *   Signature-Input: <label>=("@method" "@path" "content-digest" …);created=<s>;nonce="<n>";alg="ed25519";keyid="<did>"
 *   Signature:       <label>=:<base64 Ed25519 signature of the signature base>:
 *
 * The signature base is one line per covered component, `"<name>": <value>`,
 * then `"@signature-params": <the Signature-Input value of the label>`, joined
 * by LF with no trailing LF (RFC 9421 §2.5). Derived components supported:
 * `@method`, `@target-uri`, `@authority`, `@scheme`, `@path`, `@query`; any
 * other name is a header field (lowercase), its value trimmed.
 *
 * Only the subset of Structured Field syntax (RFC 8941) these headers use is
 * parsed: a dictionary whose members are an inner list of strings with
 * parameters (Signature-Input) or a byte sequence (Signature).
 *
 * @example
 * ```ts
 * const message = { method: 'POST', url: 'https://b.example/v1/federation/inbox', header: (n) => headers.get(n) }
 * const fields = signMessage(alice, message, { components: ['@method', '@path', 'content-digest'], keyid: alice.did })
 * // set fields['signature-input'] and fields.signature on the request; the receiver calls
 * await verifyMessage(message, { publicKeyOf: (keyid) => publicKeyFromDid(keyid) })
 * ```
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { utf8ToBytes } from '@noble/hashes/utils.js'
import { base64 } from '@scure/base'
import { bytesEqual } from './canonical.ts'
import { ErrorCode, VivimError } from './errors.ts'
import { type Identity, sign, verifyAsync } from './identity.ts'

/** What a signature can cover of a request. */
export interface HttpMessage {
  readonly method: string
  /** The absolute target URI, `scheme://authority/path?query`. */
  readonly url: string
  /** A header field's value by lowercase name (several values joined by `, `), or null. */
  readonly header: (name: string) => string | null
}

/** The parameters of one Signature-Input member (RFC 9421 §2.3). */
export interface SignatureParams {
  /** Creation time, whole seconds since the epoch. */
  readonly created?: number
  readonly expires?: number
  readonly nonce?: string
  readonly alg?: string
  readonly keyid?: string
  readonly tag?: string
}

/** What to sign a request with, besides the key. */
export interface SignInit extends Omit<SignatureParams, 'created'> {
  readonly components: readonly string[]
  /** Seconds since the epoch; now by default. */
  readonly created?: number
  /** The dictionary key in both fields; `sig1` by default. */
  readonly label?: string
}

/** One parsed Signature-Input member. */
export interface SignatureInput {
  readonly components: readonly string[]
  readonly params: SignatureParams
  /** The member's value exactly as serialized, the last line of the signature base. */
  readonly serialized: string
}

/** A signature that verified, and the label it was found under. */
export interface VerifiedSignature extends SignatureInput {
  readonly label: string
}

/** How to verify a request's signature. */
export interface VerifyInit {
  /** The public key a `keyid` names; throw or return null to refuse it. */
  readonly publicKeyOf: (keyid: string) => Uint8Array | null
  /** Components the signature must cover. */
  readonly required?: readonly string[]
  /** The label to check; the first member of Signature-Input by default. */
  readonly label?: string
}

const PARAM_ORDER = ['created', 'expires', 'nonce', 'alg', 'keyid', 'tag'] as const
const URI = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(\?[^#]*)?/i

/** `sha-256=:<base64>:`, the RFC 9530 digest of a body. */
export function contentDigest(body: Uint8Array): string {
  return `sha-256=:${base64.encode(sha256(body))}:`
}

/** Whether a Content-Digest field holds the sha-256 digest of `body` (other algorithms are ignored). */
export function contentDigestMatches(field: string | null, body: Uint8Array): boolean {
  const match = field?.match(/(?:^|,)\s*sha-256=:([A-Za-z0-9+/=]+):\s*(?:,|$)/)
  if (!match?.[1]) return false
  try {
    return bytesEqual(base64.decode(match[1]), sha256(body))
  } catch {
    return false
  }
}

/** The `@signature-params` value: the inner list of components and the parameters, in a fixed order. */
export function serializeSignatureParams(components: readonly string[], params: SignatureParams): string {
  let out = `(${components.map((c) => `"${checkString(c)}"`).join(' ')})`
  for (const name of PARAM_ORDER) {
    const value = params[name]
    if (value === undefined) continue
    out += typeof value === 'number' ? `;${name}=${checkInteger(value)}` : `;${name}="${checkString(value)}"`
  }
  return out
}

/** The bytes that are signed, for the components and serialized parameters of one signature. */
export function signatureBase(message: HttpMessage, components: readonly string[], serializedParams: string): string {
  const lines = components.map((name) => `"${name}": ${componentValue(message, name)}`)
  lines.push(`"@signature-params": ${serializedParams}`)
  return lines.join('\n')
}

/** Signs a request: the two fields to set, `signature-input` and `signature`. */
export function signMessage(
  signer: Pick<Identity, 'secretKey'>,
  message: HttpMessage,
  init: SignInit,
): { 'signature-input': string; signature: string } {
  const label = init.label ?? 'sig1'
  const { components, label: _label, ...rest } = init
  const params: SignatureParams = { ...rest, created: init.created ?? Math.floor(Date.now() / 1000) }
  const serialized = serializeSignatureParams(components, params)
  const base = utf8ToBytes(signatureBase(message, components, serialized))
  return {
    'signature-input': `${label}=${serialized}`,
    signature: `${label}=:${base64.encode(sign(signer, base))}:`,
  }
}

/**
 * Checks a request's signature: the label's input and signature parse, it
 * covers `required`, and the Ed25519 signature verifies under the key its
 * `keyid` names. Returns what was signed; freshness and replay are the
 * caller's to judge from `params.created` and `params.nonce`.
 */
export async function verifyMessage(message: HttpMessage, init: VerifyInit): Promise<VerifiedSignature> {
  const inputs = parseSignatureInput(message.header('signature-input'))
  const label = init.label ?? inputs.keys().next().value
  const input = label === undefined ? undefined : inputs.get(label)
  if (label === undefined || input === undefined) throw refusal(ErrorCode.SignatureRequired, 'no signature input')
  const signature = parseSignatures(message.header('signature')).get(label)
  if (!signature) throw refusal(ErrorCode.SignatureRequired, `no signature labelled ${label}`)
  for (const name of init.required ?? []) {
    if (!input.components.includes(name)) throw refusal(ErrorCode.InvalidSignature, `the signature must cover ${name}`)
  }
  if (input.params.alg !== undefined && input.params.alg !== 'ed25519') {
    throw refusal(ErrorCode.InvalidSignature, `unsupported signature algorithm ${input.params.alg}`)
  }
  const keyid = input.params.keyid
  const publicKey = keyid === undefined ? null : init.publicKeyOf(keyid)
  if (publicKey === null) throw refusal(ErrorCode.InvalidSignature, 'the signature names no known key')
  let base: string
  try {
    base = signatureBase(message, input.components, input.serialized)
  } catch (cause) {
    throw new VivimError(ErrorCode.InvalidSignature, (cause as Error).message, { cause })
  }
  if (!(await verifyAsync(publicKey, utf8ToBytes(base), signature))) {
    throw refusal(ErrorCode.InvalidSignature, 'the request signature does not verify')
  }
  return { label, ...input }
}

/** Parses Signature-Input: label → covered components and parameters. */
export function parseSignatureInput(field: string | null): Map<string, SignatureInput> {
  const out = new Map<string, SignatureInput>()
  for (const [label, value] of dictionaryMembers(field)) {
    const match = value.match(
      /^\(((?:"[^"\\]*"(?: "[^"\\]*")*)?)\)((?:;[a-z*][a-z0-9_.*-]*=(?:"[^"\\]*"|-?\d{1,15}))*)$/,
    )
    if (!match) throw refusal(ErrorCode.InvalidSignature, `signature input ${label} is malformed`)
    const components = match[1] ? match[1].split(' ').map((c) => c.slice(1, -1)) : []
    const params: Record<string, string | number> = {}
    for (const p of (match[2] ?? '').split(';').slice(1)) {
      const eq = p.indexOf('=')
      const raw = p.slice(eq + 1)
      params[p.slice(0, eq)] = raw.startsWith('"') ? raw.slice(1, -1) : Number(raw)
    }
    for (const name of ['created', 'expires'] as const) {
      if (params[name] !== undefined && typeof params[name] !== 'number') {
        throw refusal(ErrorCode.InvalidSignature, `${name} is an integer`)
      }
    }
    out.set(label, { components, params: params as SignatureParams, serialized: value })
  }
  return out
}

function parseSignatures(field: string | null): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>()
  for (const [label, value] of dictionaryMembers(field)) {
    const match = value.match(/^:([A-Za-z0-9+/=]*):$/)
    if (!match) throw refusal(ErrorCode.InvalidSignature, `signature ${label} is not a byte sequence`)
    try {
      out.set(label, base64.decode(match[1] ?? ''))
    } catch {
      throw refusal(ErrorCode.InvalidSignature, `signature ${label} is not base64`)
    }
  }
  return out
}

/** Splits a dictionary on top-level commas (none occur inside the strings and byte sequences used here). */
function dictionaryMembers(field: string | null): [string, string][] {
  if (field === null || field.trim() === '') return []
  return field.split(',').map((member) => {
    const trimmed = member.trim()
    const eq = trimmed.indexOf('=')
    const label = trimmed.slice(0, eq)
    if (eq < 1 || !/^[a-z*][a-z0-9_.*-]*$/.test(label)) throw refusal(ErrorCode.InvalidSignature, 'malformed field')
    return [label, trimmed.slice(eq + 1)]
  })
}

function componentValue(message: HttpMessage, name: string): string {
  if (!name.startsWith('@')) {
    const value = message.header(name)
    if (value === null) throw new VivimError(ErrorCode.InvalidSignature, `the covered field ${name} is missing`)
    return value.trim()
  }
  const uri = message.url.match(URI)
  if (!uri) throw new VivimError(ErrorCode.InvalidSignature, 'the target URI is not absolute')
  switch (name) {
    case '@method':
      return message.method.toUpperCase()
    case '@target-uri':
      return message.url
    case '@scheme':
      return (uri[1] ?? '').toLowerCase()
    case '@authority':
      return (uri[2] ?? '').toLowerCase()
    case '@path':
      return uri[3] || '/'
    case '@query':
      return uri[4] || '?'
  }
  throw new VivimError(ErrorCode.InvalidSignature, `unsupported derived component ${name}`)
}

function checkString(value: string): string {
  if (!/^[\x20-\x7e]*$/.test(value) || /["\\]/.test(value)) {
    throw new VivimError(ErrorCode.BadRequest, 'signature parameters are printable ASCII without quotes')
  }
  return value
}

function checkInteger(value: number): number {
  if (!Number.isSafeInteger(value)) throw new VivimError(ErrorCode.BadRequest, 'an integer parameter')
  return value
}

function refusal(code: ErrorCode, message: string): VivimError {
  return new VivimError(code, message)
}
