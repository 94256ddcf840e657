/**
 * Where the registry looks past its own storage, and whom it tells about a
 * stored record: the libp2p mesh through connected bridges
 * (`../bridge/records.ts`) and federated instances
 * (`../federation/records.ts`). Each source answers with verified canonical
 * record bytes or `null`; the caller validates again before it stores.
 */
import { findRecordViaBridges, recordStoredForBridges } from '../bridge/records.ts'
import { findRecordViaFederation, recordStoredForFederation } from '../federation/records.ts'

/** The first source that has the key, in order: the mesh, then federated peers. */
export async function findRecordElsewhere(env: Env, key: string): Promise<Uint8Array | null> {
  return (await findRecordViaBridges(env, key)) ?? (await findRecordViaFederation(env, key))
}

/** Tells the mesh and federated peers that a record was stored here; never fails the write. */
export async function recordStored(env: Env, bytes: Uint8Array): Promise<void> {
  await Promise.allSettled([recordStoredForBridges(env, bytes), recordStoredForFederation(env, bytes)])
}
