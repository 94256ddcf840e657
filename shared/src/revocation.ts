/**
 * Revocations: a signed statement that a capability token (by id) and
 * everything delegated from it are void. Anyone who issued a link of the
 * token's chain may revoke it, as in UCAN; whoever stores a revocation checks
 * that against the token itself, which the revoker presents with it.
 *
 *   revocation = canonical { v: "vivim-revoke/1", iss, revoke: token id, iat, sig }
 *
 * @example
 * ```ts
 * const rev = createRevocation(alice, grant)
 * await validateRevocation(rev, grant) // rejects unless alice issued a link of grant's chain
 * ```
 */

import { decodeCanonical, encodeCanonical } from './canonical.ts'
import { type Capability, capabilityId, decodeCapability } from './capability.ts'
import { ErrorCode, VivimError } from './errors.ts'
import { type Did, type Identity, sign, verifyAsync } from './identity.ts'

/** The `v` of every revocation. */
export const REVOCATION_FORMAT = 'vivim-revoke/1'

/** A signed revocation of a capability token, by id. */
export interface Revocation {
  readonly iss: Did
  /** The id of the revoked token. */
  readonly revoke: string
  /** When it was issued, ms since the epoch. */
  readonly iat: number
  readonly sig: Uint8Array
}

const signingBytes = (r: Omit<Revocation, 'sig'>) =>
  encodeCanonical({ v: REVOCATION_FORMAT, iss: r.iss, revoke: r.revoke, iat: r.iat })

/** Revokes `token` (and everything delegated from it), signed by `issuer`. */
export function createRevocation(issuer: Identity, token: Capability, iat = Date.now()): Revocation {
  const unsigned = { iss: issuer.did, revoke: capabilityId(token), iat }
  return { ...unsigned, sig: sign(issuer, signingBytes(unsigned)) }
}

/** A revocation's wire form (canonical CBOR). */
export function encodeRevocation(r: Revocation): Uint8Array {
  return encodeCanonical({ v: REVOCATION_FORMAT, ...r })
}

/** Decodes a revocation and checks its shape; throws `invalid_token`. */
export function decodeRevocation(bytes: Uint8Array): Revocation {
  const v = decodeCanonical(bytes) as Record<string, unknown>
  const ok =
    Object.keys(v ?? {})
      .sort()
      .join() === 'iat,iss,revoke,sig,v' &&
    v.v === REVOCATION_FORMAT &&
    typeof v.iss === 'string' &&
    typeof v.revoke === 'string' &&
    Number.isSafeInteger(v.iat) &&
    v.sig instanceof Uint8Array
  if (!ok) throw new VivimError(ErrorCode.InvalidToken, 'not a revocation')
  const { v: _, ...revocation } = v
  return revocation as unknown as Revocation
}

/** Checks the revocation's signature, that it names `token`, and that its issuer issued a link of the chain. */
export async function validateRevocation(r: Revocation, token: Capability): Promise<void> {
  if (!(await verifyAsync(r.iss, signingBytes(r), r.sig))) {
    throw new VivimError(ErrorCode.InvalidSignature, 'the revocation’s signature does not verify')
  }
  if (r.revoke !== capabilityId(token)) throw new VivimError(ErrorCode.BadRequest, 'the revocation names another token')
  const issuers = new Set<string>()
  for (let link: Capability | undefined = token; link; ) {
    issuers.add(link.iss)
    link = link.prf[0] ? decodeCapability(link.prf[0]) : undefined
  }
  if (!issuers.has(r.iss)) {
    throw new VivimError(ErrorCode.Forbidden, 'only an issuer of a link of the chain may revoke it')
  }
}
