/**
 * Verification of a capability chain, leaf to root. Every failure has its
 * own error code, so a client can tell an expired token (refresh it) from a
 * revoked one (give up) from one that never allowed the act.
 *
 * A link's signature is checked once per isolate: a link whose signature
 * verified is remembered by its token id (the SHA-256 of all its bytes,
 * signature included) in a bounded cache (`CAPABILITY_LINK_CACHE_SIZE`,
 * least recently used out), so presenting the same chain again costs no
 * signature check. Everything else (expiry, not-before, audience, resource,
 * attenuation, the owner, revocation) is checked on every call.
 *
 * @example
 * ```ts
 * const ok = await verifyCapability(decodeCapabilityText(token), {
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
import { type Did, verifyAsync } from './identity.ts'
import { Limits } from './limits.ts'
import { BoundedCache } from './lru.ts'

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

/** How many verified links (by token id) an isolate remembers. */
export const CAPABILITY_LINK_CACHE_SIZE = 10_000

const verifiedLinks = new BoundedCache<string, true>(CAPABILITY_LINK_CACHE_SIZE)
let signatureChecks = 0

/** How many link signatures this isolate has checked (not answered from the cache): for tests and metrics. */
export function capabilitySignatureChecks(): number {
  return signatureChecks
}

/** Verifies a chain leaf to root for acting on `ctx.resource`; rejects with a `VivimError` with the first failure's own code. */
export async function verifyCapability(leaf: Capability, ctx: VerifyCapabilityContext): Promise<VerifiedCapability> {
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
    await checkLink(link, now, ctx, ids)
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

async function checkLink(link: Capability, now: number, ctx: VerifyCapabilityContext, ids: string[]): Promise<void> {
  const id = capabilityId(link)
  if (verifiedLinks.get(id) === undefined) {
    signatureChecks++
    if (!(await verifyAsync(link.iss, capabilitySigningBytes(link), link.sig))) {
      fail(ErrorCode.InvalidSignature, 'a token’s signature does not verify for its issuer')
    }
    verifiedLinks.set(id, true)
  }
  if (now < link.nbf) fail(ErrorCode.TokenNotYetValid, 'a token in the chain is not valid yet')
  if (now >= link.exp) fail(ErrorCode.TokenExpired, 'a token in the chain has expired')
  if (ctx.isRevoked?.(id)) fail(ErrorCode.TokenRevoked, 'a token in the chain was revoked')
  ids.push(id)
}
