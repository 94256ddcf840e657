/**
 * Capability tokens for document tests, minted from the protocol alone: an
 * owner's self-issued invocation, or a grant from the owner to a user and
 * the user's invocation of it, addressed to the test edge.
 */
import { env } from 'cloudflare:test'
import { type Action, encodeCapabilityText, type Identity, issueCapability } from '@vivim/shared'
import { edgeIdentity } from '../auth/edge-identity.ts'
import { DocPeer } from './doc-peer.ts'

const HOUR = 3_600_000
const edge = edgeIdentity(env)

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
