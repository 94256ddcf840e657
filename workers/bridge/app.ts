/**
 * The bridge link's routes: `GET /v1/bridge` upgrades to the WebSocket a
 * libp2p bridge (`node-bridge/`) holds to this edge (frames in
 * `shared/src/bridge-protocol.ts`); `GET /v1/bridge/peers` lists the linked
 * bridges and their multiaddrs, a bootstrap list for peers of the mesh.
 *
 * Linking takes a capability on the resource `bridge` that may write, whose
 * chain starts at this edge's own DID (the edge's operator grants it to the
 * bridge's DID, and the bridge invokes it). Development mode admits anyone.
 * Each link lands in a `BridgeLink` object of its own, named `link:<random
 * id>`; the revocation registry watches it, so revoking any token of the
 * chain closes the link.
 *
 * @example
 * ```ts
 * app.route('/', bridge) // in workers/app.ts
 * new WebSocket(`wss://edge.example/v1/bridge?token=${invocation}`)
 * ```
 */
import { BRIDGE_RESOURCE, ErrorCode, VivimError } from '@vivim/shared'
import { Hono } from 'hono'
import { edgeIdentity } from '../auth/edge-identity.ts'
import { authorize } from '../http/access.ts'
import type { AppEnv } from '../http/types.ts'
import { connectRequest, isUpgrade } from '../relay/room-headers.ts'
import { liveLinks } from './live-links.ts'
import { linkedBridges } from './records.ts'

export const bridge = new Hono<AppEnv>()

bridge.get('/v1/bridge', async (c) => {
  if (!isUpgrade(c.req.raw)) throw new VivimError(ErrorCode.UpgradeRequired, 'a bridge links over a WebSocket')
  const name = `link:${crypto.randomUUID()}`
  // The edge owns the bridge resource: only a chain rooted in its own DID lets a bridge in.
  const access = await authorize(c.req.raw, c.env, BRIDGE_RESOURCE, {
    roomOwner: async () => edgeIdentity(c.env).did,
    watch: { kind: 'bridge', name },
  })
  if (!access.canWrite) throw new VivimError(ErrorCode.Forbidden, 'linking a bridge takes a capability that may write')
  const linked = await c.env.BRIDGE_LINK.getByName(name).fetch(connectRequest(name, access))
  // This isolate's next writes reach the new bridge at once; other isolates see it within LINKS_TTL_MS.
  if (linked.status === 101) liveLinks.added(name)
  return linked
})

bridge.get('/v1/bridge/peers', async (c) => c.json({ bridges: await linkedBridges(c.env) }))
