/**
 * Where the registry looks past its own storage, and whom it tells about a
 * stored record or a provider announced here: the libp2p mesh through connected bridges
 * (`../bridge/records.ts`) and federated instances
 * (`../federation/records.ts`). Each source answers with verified canonical
 * record bytes or `null`; the caller validates again before it stores.
 */
import type { ProviderAnnouncement } from '@vivim/shared'
import { findRecordViaBridges, providerAnnouncedForBridges, recordStoredForBridges } from '../bridge/records.ts'
import { findRecordViaFederation, recordStoredForFederation } from '../federation/records.ts'

/** The first source that has the key, in order: the mesh, then federated peers. */
export async function findRecordElsewhere(env: Env, key: string): Promise<Uint8Array | null> {
  return (await findRecordViaBridges(env, key)) ?? (await findRecordViaFederation(env, key))
}

/** Tells the mesh and federated peers that a record was stored here; never fails the write. */
export async function recordStored(env: Env, bytes: Uint8Array): Promise<void> {
  await Promise.allSettled([recordStoredForBridges(env, bytes), recordStoredForFederation(env, bytes)])
}

/** Tells the mesh that a peer provides `key` (the DHT has no way to say so for another peer: bridges keep its addresses). */
export async function providerAnnounced(env: Env, key: string, announcement: ProviderAnnouncement): Promise<void> {
  await providerAnnouncedForBridges(env, key, announcement).catch(() => {})
}
