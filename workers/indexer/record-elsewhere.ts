/**
 * Where the registry looks past its own storage, and whom it tells about a
 * stored record or a provider announced here: the libp2p mesh through connected bridges
 * (`../bridge/records.ts`) and federated instances
 * (`../federation/records.ts`). Each source answers with bytes checked by
 * `verifiedRecordBytes` or `null`; the caller checks grants before it stores.
 */
import type { ProviderAnnouncement } from '@vivim/shared'
import { findRecordViaBridges, providerAnnouncedForBridges, recordStoredForBridges } from '../bridge/records.ts'
import { findRecordViaFederation } from '../federation/records.ts'

/** The first source that has the key, the mesh before federated peers; both are asked at once, so waits do not add up. */
export async function findRecordElsewhere(env: Env, key: string): Promise<Uint8Array | null> {
  const federated = findRecordViaFederation(env, key)
  return (await findRecordViaBridges(env, key)) ?? (await federated)
}

/** Tells the mesh that a record was stored here (records federate by lookup only); never fails the write. */
export async function recordStored(env: Env, bytes: Uint8Array): Promise<void> {
  await recordStoredForBridges(env, bytes).catch(() => {})
}

/** Tells the mesh that a peer provides `key` (the DHT has no way to say so for another peer: bridges keep its addresses). */
export async function providerAnnounced(env: Env, key: string, announcement: ProviderAnnouncement): Promise<void> {
  await providerAnnouncedForBridges(env, key, announcement).catch(() => {})
}
