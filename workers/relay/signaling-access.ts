/**
 * Who may use WebRTC signaling, and for which rooms. A y-webrtc room name is
 * the id of the document its peers sync, so the credential of a signaling
 * socket is an invocation for `doc:<id>` (one room) or a prefix such as
 * `doc:circle:*` (every room it covers), allowing read or write. A socket
 * may then join room R only if that resource covers `doc:R` and the chain's
 * root is the owner of document R: exactly what `/v1/docs/R` would admit.
 * The chain (signatures, expiry, revocation, attenuation) is checked here,
 * once, and later revocations of its links are pushed to the identity's
 * `SignalingLeases` object; the owner of each room is checked at each
 * subscribe (`mayJoin`). Development mode without a token joins anything.
 */
import {
  actionAllowed,
  type Capability,
  capabilityChain,
  decodeCapabilityText,
  ErrorCode,
  parseDocId,
  resourceCovers,
  VivimError,
} from '@vivim/shared'
import { ownerFromName } from '../auth/resource-owner.ts'
import { type Access, credentialOf, developmentAccess, verifiedAccess } from '../http/access.ts'

/** Owners never change once claimed, so known ones are kept per isolate; the bound only caps memory. */
const MAX_CACHED_OWNERS = 10_000
const owners = new Map<string, string>()

/** What a signaling socket may join: rooms whose `doc:` resource `scope` covers, owned by `root`. */
export interface SignalingGrant {
  readonly scope: string
  readonly root: string
}

/** A signaling connect's access: the chain's, plus its grant (null: any room, development mode only). */
export interface SignalingAccess extends Access {
  readonly grant: SignalingGrant | null
}

/** Decides a `/v1/signaling` connect; throws a coded `VivimError` when the credential serves no room. */
export async function authorizeSignaling(request: Request, env: Env): Promise<SignalingAccess> {
  const token = credentialOf(request)
  const dev = developmentAccess(token, env)
  if (dev !== null) return { ...dev, grant: null }
  if (token === null) throw new VivimError(ErrorCode.Unauthorized, 'a capability token is required')
  const leaf = decodeCapabilityText(token)
  if (!leaf.res.startsWith('doc:') || leaf.res === 'doc:') {
    throw new VivimError(ErrorCode.Forbidden, 'signaling takes an invocation for doc:<id> or a doc: prefix')
  }
  if (!actionAllowed(leaf.can, 'read') && !actionAllowed(leaf.can, 'write')) {
    throw new VivimError(ErrorCode.Forbidden, 'signaling needs read or write on the document')
  }
  const root = (capabilityChain(leaf).at(-1) as Capability).iss
  // One document named: refuse a stranger's chain now, with its code, rather than at subscribe.
  if (!leaf.res.endsWith('*')) {
    const owner = await documentOwner(env, leaf.res.slice('doc:'.length))
    if (owner === null) throw new VivimError(ErrorCode.Forbidden, `nobody owns ${leaf.res} yet`)
    if (owner !== root)
      throw new VivimError(ErrorCode.NotOwner, 'the chain’s root is not issued by the resource’s owner')
  }
  // The invoker's leases (`signaling-leases.ts`) hear of later revocations and close its sockets.
  const access = await verifiedAccess(env, leaf, leaf.res, root, { kind: 'signaling', name: leaf.iss })
  return { ...access, grant: { scope: leaf.res, root } }
}

/** The owner of document `docId`: from its id for profiles and settings, else from its room (null while unowned). */
export async function documentOwner(env: Env, docId: string): Promise<string | null> {
  parseDocId(docId)
  return ownerFromName(`doc:${docId}`) ?? (await env.DOC_ROOM.getByName(docId).owner())
}

/** `documentOwner`, remembered by this isolate once the document has one. */
export async function cachedOwner(env: Env, docId: string): Promise<string | null> {
  const known = owners.get(docId)
  if (known !== undefined) return known
  const owner = await documentOwner(env, docId)
  if (owner !== null) {
    if (owners.size >= MAX_CACHED_OWNERS) owners.clear()
    owners.set(docId, owner)
  }
  return owner
}

/** Whether `grant` lets a socket join room `name`; `ownerOf` answers the owner of a document id. */
export async function mayJoin(
  grant: SignalingGrant | null,
  name: string,
  ownerOf: (docId: string) => Promise<string | null>,
): Promise<boolean> {
  if (grant === null) return true
  try {
    parseDocId(name)
  } catch {
    return false
  }
  if (!resourceCovers(grant.scope, `doc:${name}`)) return false
  return (await ownerOf(name)) === grant.root
}
