/**
 * The libp2p mesh (through connected bridges) as an edge extension: records
 * and provider announcements stored here are told to every linked bridge,
 * and a record missing here is looked up in the DHT (`records.ts`).
 * Registered in `../index.ts`, before federation, so the mesh answers a miss
 * first.
 *
 * @example
 * ```ts
 * registerExtensions(bridgeExtension, federationExtension)
 * ```
 */
import type { EdgeExtension } from '../extensions/events.ts'
import { findRecordViaBridges, providerAnnouncedForBridges, recordStoredForBridges } from './records.ts'

// The mesh is best effort (a bridge may go at any moment): a push that fails is dropped without a log.
const dropped = (): void => {}

export const bridgeExtension: EdgeExtension = {
  name: 'bridge',
  recordStored: (env, { bytes }) => recordStoredForBridges(env, bytes).catch(dropped),
  providerAnnounced: (env, { key, announcement }) => providerAnnouncedForBridges(env, key, announcement).catch(dropped),
  recordMissed: (env, { key }) => findRecordViaBridges(env, key),
}
