/**
 * Capability tokens for tests, minted from the protocol alone: invocations
 * addressed to the test edge (`invoke`), and for documents an owner's
 * self-issued invocation or a grant from the owner and the user's invocation
 * of it (`docToken`); and a token's revocation posted to the edge (`revoke`).
 */
import { env } from 'cloudflare:test'
import { exports } from 'cloudflare:workers'
import {
  type Action,
  type Capability,
  createRevocation,
  encodeCanonical,
  encodeCapability,
  encodeCapabilityText,
  encodeRevocation,
  type Identity,
  issueCapability,
} from '@vivim/shared'
import { edgeIdentity } from '../auth/edge-identity.ts'
import { DocPeer } from './doc-peer.ts'
import { EDGE } from './socket-peer.ts'

const HOUR = 3_600_000
const edge = edgeIdentity(env)
// One expiry for every link, so a child never outlives its parent by the milliseconds between their creation.
const EXP = Date.now() + HOUR

/** A token by `issuer` for `res`, addressed to the test edge unless `aud` says otherwise, with `prf` as its parent. */
export function invoke(
  issuer: Identity,
  res: string,
  can: Action[],
  options: { prf?: Capability; exp?: number; nbf?: number; aud?: string } = {},
): Capability {
  return issueCapability(issuer, {
    aud: options.aud ?? edge.did,
    res,
    can,
    exp: options.exp ?? EXP,
    nbf: options.nbf,
    prf: options.prf ? [options.prf] : [],
  })
}

/** `user`'s token for `doc:<docId>`: self-issued when `user` is `owner`, else through a grant from `owner`. */
export function docToken(owner: Identity, user: Identity, docId: string, can: Action[]): string {
  const res = `doc:${docId}`
  const exp = Date.now() + HOUR
  const prf = user === owner ? [] : [issueCapability(owner, { aud: user.did, res, can, exp })]
  return encodeCapabilityText(issueCapability(user, { aud: edge.did, res, can, exp, prf }))
}

/** A synced peer of `user` on `docId`. */
export async function peerOf(owner: Identity, user: Identity, docId: string, can: Action[] = ['read', 'write']) {
  const peer = await DocPeer.connect(docId, { token: docToken(owner, user, docId, can) })
  await peer.until(() => peer.synced || peer.closed !== null)
  return peer
}

/** Posts `issuer`'s revocation of `token` to the edge, as a client does; the edge answers whether it took it. */
export function revoke(issuer: Identity, token: Capability): Promise<Response> {
  const body = encodeCanonical({
    revocation: encodeRevocation(createRevocation(issuer, token)),
    token: encodeCapability(token),
  })
  return exports.default.fetch(new Request(`${EDGE}/v1/revocations`, { method: 'POST', body }))
}
