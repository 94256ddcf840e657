/**
 * The credential hook of every edge entry point. A request's credential is
 * the `token` query parameter (browsers cannot set headers on a WebSocket)
 * or an `Authorization: Bearer` header, holding a capability invocation
 * (`shared/src/capability.ts`) addressed to this edge's DID.
 *
 * Development mode (`VIVIM_ENV = "development"`, which `npm start` sets) also
 * admits requests with no token (read-write) or the token `dev:read`
 * (read-only), so local apps work before they mint capabilities; no other
 * mode does.
 */
import {
  actionAllowed,
  capabilityChain,
  capabilityId,
  decodeCapabilityText,
  ErrorCode,
  VivimError,
  verifyCapability,
} from '@vivim/shared'
import { edgeIdentity } from '../auth/edge-identity.ts'
import { ownerFromName } from '../auth/resource-owner.ts'
import { type RoomRef, revocationRegistry } from '../auth/revocation-registry.ts'

export interface Access {
  /** The DID acting (the invocation's issuer), when a capability names one. */
  readonly did: string | null
  readonly canWrite: boolean
  /** When the credential stops being valid, ms since the epoch; null for never. */
  readonly exp: number | null
  /** The ids of the token chain, so a revocation of any link can close the connection. */
  readonly tokens: readonly string[]
  /** The resource's owner as established by this request; set when it made its creator the owner. */
  readonly newOwner: string | null
}

export interface AuthorizeOptions {
  /** For resources whose room holds the owner: ask it (null when the room is new). */
  readonly roomOwner?: () => Promise<string | null>
  /** Where to push later revocations of the token chain. */
  readonly watch?: RoomRef
}

export const DEV_READ_ONLY_TOKEN = 'dev:read'

export function credentialOf(request: Request): string | null {
  const fromQuery = new URL(request.url).searchParams.get('token')
  if (fromQuery) return fromQuery
  const header = request.headers.get('Authorization')
  const match = header?.match(/^Bearer\s+(\S+)$/i)
  return match?.[1] ?? null
}

/**
 * Decides what the request's credential allows on `resource` (for example
 * `doc:<id>`): reading at least, writing when `canWrite`. Throws a
 * `VivimError` whose code says why it allows nothing.
 */
export async function authorize(
  request: Request,
  env: Env,
  resource: string,
  options: AuthorizeOptions = {},
): Promise<Access> {
  const token = credentialOf(request)
  if (env.VIVIM_ENV === 'development' && (token === null || token === DEV_READ_ONLY_TOKEN)) {
    return { did: null, canWrite: token !== DEV_READ_ONLY_TOKEN, exp: null, tokens: [], newOwner: null }
  }
  if (token === null) throw new VivimError(ErrorCode.Unauthorized, 'a capability token is required')
  const leaf = decodeCapabilityText(token)
  const chain = capabilityChain(leaf)
  let owner = ownerFromName(resource)
  let newOwner: string | null = null
  if (owner === null && options.roomOwner) {
    owner = await options.roomOwner()
    // A resource nobody owns yet belongs to whoever creates it: the root of the first valid chain.
    if (owner === null) newOwner = owner = (chain.at(-1) as (typeof chain)[number]).iss
  }
  const ids = chain.map((link) => capabilityId(link))
  const revoked = new Set(await revocationRegistry(env).revokedAmong(ids, options.watch))
  const verified = verifyCapability(leaf, {
    resource,
    action: actionAllowed(leaf.can, 'read') ? 'read' : 'write',
    audience: edgeIdentity(env).did,
    ownerOf: () => owner,
    isRevoked: (id) => revoked.has(id),
  })
  return {
    did: verified.invoker,
    canWrite: actionAllowed(verified.can, 'write'),
    exp: verified.exp,
    tokens: verified.ids,
    newOwner,
  }
}
