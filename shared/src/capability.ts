/**
 * Capability tokens, modelled on UCAN (https://github.com/ucan-wg/spec,
 * v0.10): the same fields (`iss`, `aud`, `nbf`, `exp`, `nnc`, `prf`) and
 * rules (each link is issued by its parent's audience, claims no more than
 * its parent, expires no later; the chain's root is issued by the resource's
 * owner), with one resource and a set of actions per token (`res`, `can`)
 * instead of UCAN's capability map, and deterministic CBOR signed with
 * Ed25519 instead of a JWT.
 *
 *   token = canonical { v: "vivim-cap/1", iss, aud, res, can, nbf, exp, nnc, prf: [token bytes…], sig }
 *
 * `sig` is by `iss` over the canonical encoding of every other field. A
 * token's id is the base64url SHA-256 of its bytes; revocations name ids.
 * To use a capability, its holder issues a short-lived token to the edge's
 * DID (the audience the edge checks) with the grant as proof: an invocation,
 * as in UCAN.
 *
 * @example
 * ```ts
 * const grant = issueCapability(alice, { aud: bob.did, res: 'doc:circle:c1', can: ['read', 'write'], exp })
 * const invocation = issueCapability(bob, { aud: edge.did, res: 'doc:circle:c1', can: ['read', 'write'], exp, prf: [grant] })
 * const token = encodeCapabilityText(invocation) // the `token` query parameter
 * ```
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { randomBytes } from '@noble/hashes/utils.js'
import { base64urlnopad } from '@scure/base'
import { decodeCanonical, encodeCanonical } from './canonical.ts'
import { ErrorCode, VivimError } from './errors.ts'
import { type Did, type Identity, sign } from './identity.ts'
import { Limits } from './limits.ts'

/** The `v` of every capability token. */
export const CAPABILITY_FORMAT = 'vivim-cap/1'
/** The actions a token may allow; `admin` allows every other one and delegation. */
export const Actions = ['read', 'write', 'delete', 'admin'] as const
/** One of `Actions`. */
export type Action = (typeof Actions)[number]

/** A decoded capability token (`docs/protocol.md`, Credentials and capabilities). */
export interface Capability {
  readonly iss: Did
  readonly aud: Did
  /** `doc:<docId>`, `topic:<topic>`, `record:<key>`; a trailing `*` covers every resource with that prefix. */
  readonly res: string
  readonly can: readonly Action[]
  /** Not valid before, ms since the epoch. */
  readonly nbf: number
  /** Not valid from, ms since the epoch. */
  readonly exp: number
  readonly nnc: string
  /** The encoded parent tokens this one is delegated from; empty for a root. */
  readonly prf: readonly Uint8Array[]
  readonly sig: Uint8Array
}

/** What `issueCapability` needs; `prf` holds the parent token (at most one), none for a root. */
export interface CapabilityInit {
  aud: string
  res: string
  can: readonly Action[]
  exp: number
  nbf?: number
  prf?: readonly Capability[]
}

/** Issues a token signed by `issuer`, with a random nonce and `can` sorted. */
export function issueCapability(issuer: Identity, init: CapabilityInit): Capability {
  const unsigned = {
    iss: issuer.did,
    aud: init.aud as Did,
    res: init.res,
    can: [...new Set(init.can)].sort() as Action[],
    nbf: init.nbf ?? 0,
    exp: init.exp,
    nnc: base64urlnopad.encode(randomBytes(12)),
    prf: (init.prf ?? []).map(encodeCapability),
  }
  return { ...unsigned, sig: sign(issuer, capabilitySigningBytes(unsigned)) }
}

/** The bytes `sig` signs: the canonical encoding of every field but `sig`, with `v`. */
export function capabilitySigningBytes(c: Omit<Capability, 'sig'>): Uint8Array {
  return encodeCanonical({
    v: CAPABILITY_FORMAT,
    iss: c.iss,
    aud: c.aud,
    res: c.res,
    can: [...c.can],
    nbf: c.nbf,
    exp: c.exp,
    nnc: c.nnc,
    prf: [...c.prf],
  })
}

/** A token's wire form: the canonical encoding of its ten fields. */
export function encodeCapability(c: Capability): Uint8Array {
  return encodeCanonical({ v: CAPABILITY_FORMAT, ...c, can: [...c.can], prf: [...c.prf] })
}

/** Decodes a token's wire form and checks its shape (not its signature); throws `invalid_token`. */
export function decodeCapability(bytes: Uint8Array): Capability {
  if (bytes.length > Limits.maxCapabilityBytes) {
    throw new VivimError(ErrorCode.InvalidToken, `a capability token is at most ${Limits.maxCapabilityBytes} bytes`)
  }
  let v: Record<string, unknown>
  try {
    v = decodeCanonical(bytes) as Record<string, unknown>
  } catch {
    throw new VivimError(ErrorCode.InvalidToken, 'a capability token is canonical CBOR')
  }
  const keys = Object.keys(v ?? {})
    .sort()
    .join()
  const ok =
    keys === 'aud,can,exp,iss,nbf,nnc,prf,res,sig,v' &&
    v.v === CAPABILITY_FORMAT &&
    typeof v.iss === 'string' &&
    typeof v.aud === 'string' &&
    typeof v.res === 'string' &&
    v.res.length > 0 &&
    v.res.length <= Limits.maxRecordKeyBytes + 16 &&
    Array.isArray(v.can) &&
    v.can.length > 0 &&
    v.can.every((a) => (Actions as readonly unknown[]).includes(a)) &&
    Number.isSafeInteger(v.nbf) &&
    Number.isSafeInteger(v.exp) &&
    typeof v.nnc === 'string' &&
    Array.isArray(v.prf) &&
    v.prf.every((p) => p instanceof Uint8Array) &&
    v.sig instanceof Uint8Array
  if (!ok) throw new VivimError(ErrorCode.InvalidToken, 'not a capability token')
  const { v: _, ...capability } = v
  return capability as unknown as Capability
}

/** The text form, for a `token` query parameter or a Bearer header. */
export function encodeCapabilityText(c: Capability): string {
  return base64urlnopad.encode(encodeCapability(c))
}

/** Decodes the text form (`token` parameter, Bearer header); throws `invalid_token`. */
export function decodeCapabilityText(text: string): Capability {
  let bytes: Uint8Array
  try {
    bytes = base64urlnopad.decode(text)
  } catch {
    throw new VivimError(ErrorCode.InvalidToken, 'a capability token is base64url')
  }
  return decodeCapability(bytes)
}

/** A token's id: base64url SHA-256 of its bytes. Revocations name tokens by id. */
export function capabilityId(c: Capability | Uint8Array): string {
  return base64urlnopad.encode(sha256(c instanceof Uint8Array ? c : encodeCapability(c)))
}

/** Whether `parent` covers resource `res` (equal, or a `prefix*` pattern that matches). */
export function resourceCovers(parent: string, res: string): boolean {
  if (parent === res) return true
  return parent.endsWith('*') && res.startsWith(parent.slice(0, -1))
}

/** Whether `can` allows `action`: `admin` allows everything. */
export function actionAllowed(can: readonly Action[], action: Action): boolean {
  return can.includes(action) || can.includes('admin')
}

/** The links of a token's chain, leaf first, root last. Decodes only; verify with `verifyCapability`. */
export function capabilityChain(leaf: Capability): Capability[] {
  const chain = [leaf]
  for (let link = leaf; link.prf[0] !== undefined && chain.length <= Limits.maxCapabilityChain; ) {
    link = decodeCapability(link.prf[0])
    chain.push(link)
  }
  return chain
}
