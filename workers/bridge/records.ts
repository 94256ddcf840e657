/**
 * Records and the libp2p mesh (through connected bridges): looked up on a
 * local miss and told about local writes. Wired in by `extension.ts`.
 * Both go through the one `BridgeHub`,
 * which holds every bridge's link; with no bridge linked, a lookup is a miss
 * at once.
 *
 * @example
 * ```ts
 * const bytes = await findRecordViaBridges(env, '/vivim/profile/did:key:z…') // verified bytes or null
 * await recordStoredForBridges(env, bytes) // every linked bridge puts it in the DHT
 * ```
 */
import type { ProviderAnnouncement } from '@vivim/shared'

function hub(env: Pick<Env, 'BRIDGE_HUB'>) {
  return env.BRIDGE_HUB.getByName('hub')
}

/** Verified canonical bytes of the key's record from the mesh, or `null` (within `BridgeLimits.findTimeoutMs`). */
export async function findRecordViaBridges(env: Env, key: string): Promise<Uint8Array | null> {
  return await hub(env).findRecord(key)
}

/** Called after a record is stored at this edge. */
export async function recordStoredForBridges(env: Env, bytes: Uint8Array): Promise<void> {
  await hub(env).recordStored(bytes)
}

/** Called after a provider announcement is stored at this edge (`POST /v1/providers/<key>`). */
export async function providerAnnouncedForBridges(
  env: Env,
  key: string,
  announcement: ProviderAnnouncement,
): Promise<void> {
  await hub(env).providerAnnounced(key, announcement)
}

/** The bridges linked to this edge and the multiaddrs they listen on (for peers that need a bootstrap list). */
export async function linkedBridges(env: Env): Promise<{ peer: string; addrs: string[] }[]> {
  return (await hub(env).peers()).map(({ peer, addrs }) => ({ peer, addrs: [...addrs] }))
}
