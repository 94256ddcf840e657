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
  type Capability,
  capabilityChain,
  capabilityId,
  decodeCapabilityText,
  ErrorCode,
  VivimError,
  verifyCapability,
} from '@vivim/shared'
import { edgeIdentity } from '../auth/edge-identity.ts'
import { ownerFromName } from '../auth/resource-owner.ts'
import { type RoomRef, revokedAmong } from '../auth/revocation-registry.ts'

export interface Access {
  /** The DID acting (the invocation's issuer), when a capability names one. */
  readonly did: string | null
  /** Whether the socket may receive the document or topic (a write-only grant may not). */
  readonly canRead: boolean
  readonly canWrite: boolean
  /** When the credential stops being valid, ms since the epoch; null for never. */
  readonly exp: number | null
  /** The ids of the token chain, so a revocation of any link can close the connection. */
  readonly tokens: readonly string[]
  /** The resource's owner as established by this request; set when it made its creator the owner. */
  readonly newOwner: string | null
  /**
   * Whether the credential may act as the owner (the owner invoking, or a
   * chain granting `admin`): replacing a sealed document's history needs it.
   * Absent means no.
   */
  readonly canAdmin?: boolean
}

export interface AuthorizeOptions {
  /** For resources whose room (or governing document) holds the owner: ask it (null while nobody owns it). */
  readonly roomOwner?: () => Promise<string | null>
  /**
   * Whether this request may make its creator the owner of a resource nobody
   * owns: only a WebSocket connect to the resource's own room. Even then the
   * credential must grant write, so a reader never squats a name.
   */
  readonly claim?: boolean
  /** The document whose owner `roomOwner` answers for, when the resource follows one: named in refusals. */
  readonly follows?: string
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

/** The access of a development-mode request without a capability, or null when the request needs one. */
export function developmentAccess(token: string | null, env: Env): Access | null {
  if (env.VIVIM_ENV !== 'development' || (token !== null && token !== DEV_READ_ONLY_TOKEN)) return null
  const canWrite = token !== DEV_READ_ONLY_TOKEN
  return { did: null, canRead: true, canWrite, exp: null, tokens: [], newOwner: null, canAdmin: canWrite }
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
  const dev = developmentAccess(token, env)
  if (dev !== null) return dev
  if (token === null) throw new VivimError(ErrorCode.Unauthorized, 'a capability token is required')
  const leaf = decodeCapabilityText(token)
  const root = (capabilityChain(leaf).at(-1) as Capability).iss
  let owner = ownerFromName(resource)
  if (owner === null && options.roomOwner) owner = await options.roomOwner()
  // A name that says no owner and no room to ask: the chain's check refuses it (not_owner), as ever.
  if (owner === null && !options.roomOwner) return verifiedAccess(env, leaf, resource, null, options.watch)
  const claiming = owner === null
  if (claiming && !options.claim) {
    const how = options.follows
      ? `it follows the owner of doc:${options.follows}, created by opening that document with a credential that may write`
      : 'it is created by a WebSocket connect to it whose credential may write'
    throw new VivimError(ErrorCode.Forbidden, `nobody owns ${resource} yet; ${how}`)
  }
  // A resource nobody owns yet belongs to whoever creates it: the root of the first valid chain that may write.
  const access = await verifiedAccess(env, leaf, resource, owner ?? root, options.watch)
  if (!claiming) return access
  if (!access.canWrite) {
    throw new VivimError(
      ErrorCode.Forbidden,
      `nobody owns ${resource} yet, and a read-only credential cannot create it`,
    )
  }
  return { ...access, newOwner: root }
}

/**
 * Verifies `leaf` for `resource` owned by `owner` (null: nobody, so no chain passes), against the revocation
 * registry (which pushes later revocations to `watch`). The action checked is
 * read when the leaf allows it, else write. Each link's signature is checked
 * once per isolate (`verifyCapability` remembers verified token ids); expiry,
 * audience, the owner and revocation are checked on every call.
 */
export async function verifiedAccess(
  env: Env,
  leaf: Capability,
  resource: string,
  owner: string | null,
  watch?: RoomRef,
): Promise<Access> {
  const ids = capabilityChain(leaf).map((link) => capabilityId(link))
  const revoked = new Set(await revokedAmong(env, ids, watch))
  const verified = await verifyCapability(leaf, {
    resource,
    action: actionAllowed(leaf.can, 'read') ? 'read' : 'write',
    audience: edgeIdentity(env).did,
    ownerOf: () => owner,
    isRevoked: (id) => revoked.has(id),
  })
  return {
    did: verified.invoker,
    canRead: actionAllowed(verified.can, 'read'),
    canWrite: actionAllowed(verified.can, 'write'),
    exp: verified.exp,
    tokens: verified.ids,
    newOwner: null,
    canAdmin: verified.invoker === owner || actionAllowed(verified.can, 'admin'),
  }
}
