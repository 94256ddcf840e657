/**
 * Verification of a capability chain, leaf to root. Every failure has its
 * own error code, so a client can tell an expired token (refresh it) from a
 * revoked one (give up) from one that never allowed the act.
 *
 * @example
 * ```ts
 * const ok = verifyCapability(decodeCapabilityText(token), {
 *   resource: 'doc:circle:c1', action: 'write', audience: edge.did,
 *   ownerOf: (res) => owners.get(res) ?? null, isRevoked: (id) => revoked.has(id),
 * })
 * ok.invoker // the DID acting; ok.exp // when to stop trusting it
 * ```
 */
import {
  type Action,
  actionAllowed,
  type Capability,
  capabilityId,
  capabilitySigningBytes,
  decodeCapability,
  resourceCovers,
} from './capability.ts'
import { ErrorCode, VivimError } from './errors.ts'
import { type Did, verify } from './identity.ts'
import { Limits } from './limits.ts'

/** What a capability chain is checked against. */
export interface VerifyCapabilityContext {
  /** The resource acted on, e.g. `doc:<docId>`. */
  readonly resource: string
  readonly action: Action
  /** The verifier's own DID: the leaf token must be addressed to it. */
  readonly audience: string
  readonly now?: number
  /** The DID that owns a resource (its creator), or null when unknown. */
  readonly ownerOf: (resource: string) => string | null
  /** Whether a token id is revoked; none are when absent. */
  readonly isRevoked?: (tokenId: string) => boolean
}

/** What a verified chain allows, and until when. */
export interface VerifiedCapability {
  /** The DID that issued the leaf: the one acting. */
  readonly invoker: Did
  readonly can: readonly Action[]
  /** The earliest expiry in the chain: when the grant stops. */
  readonly exp: number
  /** Every link's id, leaf first, so a later revocation of any can be noticed. */
  readonly ids: readonly string[]
}

const fail = (code: ErrorCode, message: string): never => {
  throw new VivimError(code, message)
}

/** Verifies a chain leaf to root for acting on `ctx.resource`; throws a `VivimError` with the first failure's own code. */
export function verifyCapability(leaf: Capability, ctx: VerifyCapabilityContext): VerifiedCapability {
  const now = ctx.now ?? Date.now()
  if (leaf.aud !== ctx.audience) fail(ErrorCode.WrongAudience, 'the token is addressed to another service')
  if (!resourceCovers(leaf.res, ctx.resource) || !actionAllowed(leaf.can, ctx.action)) {
    fail(ErrorCode.Forbidden, `the token does not allow ${ctx.action} on ${ctx.resource}`)
  }
  const ids: string[] = []
  let exp = Number.POSITIVE_INFINITY
  let link = leaf
  for (let depth = 0; ; depth++) {
    if (depth >= Limits.maxCapabilityChain) fail(ErrorCode.InvalidToken, 'the delegation chain is too long')
    checkLink(link, now, ctx, ids)
    exp = Math.min(exp, link.exp)
    if (link.prf.length === 0) {
      if (ctx.ownerOf(ctx.resource) !== link.iss) {
        fail(ErrorCode.NotOwner, 'the chain’s root is not issued by the resource’s owner')
      }
      return { invoker: leaf.iss, can: leaf.can, exp, ids }
    }
    if (link.prf.length !== 1) fail(ErrorCode.InvalidToken, 'a token has exactly one proof')
    const parent = decodeCapability(link.prf[0] as Uint8Array)
    if (parent.aud !== link.iss) fail(ErrorCode.BrokenChain, 'a link is not issued by its parent’s audience')
    // Invoking (a link to the verifier itself) needs no right to delegate; passing a grant on does.
    if (link !== leaf && !actionAllowed(parent.can, 'admin')) {
      fail(ErrorCode.NotDelegable, 'the parent token does not allow delegation')
    }
    const attenuated =
      resourceCovers(parent.res, link.res) &&
      link.can.every((a) => actionAllowed(parent.can, a)) &&
      link.exp <= parent.exp &&
      link.nbf >= parent.nbf
    if (!attenuated) fail(ErrorCode.OverAttenuated, 'a link claims more than its parent grants')
    link = parent
  }
}

function checkLink(link: Capability, now: number, ctx: VerifyCapabilityContext, ids: string[]): void {
  if (!verify(link.iss, capabilitySigningBytes(link), link.sig)) {
    fail(ErrorCode.InvalidSignature, 'a token’s signature does not verify for its issuer')
  }
  if (now < link.nbf) fail(ErrorCode.TokenNotYetValid, 'a token in the chain is not valid yet')
  if (now >= link.exp) fail(ErrorCode.TokenExpired, 'a token in the chain has expired')
  const id = capabilityId(link)
  if (ctx.isRevoked?.(id)) fail(ErrorCode.TokenRevoked, 'a token in the chain was revoked')
  ids.push(id)
}
