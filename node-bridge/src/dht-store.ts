/**
 * What this node's own datastore holds of the DHT, read without a network
 * query: kad-dht keeps each value as a libp2p record under
 * `/dht/record/<base32 of the DHT key>` (its `datastorePrefix`, then
 * `/record`). A restarted bridge answers from here before it has any peer.
 *
 * @example
 * ```ts
 * await localDhtValue(storage.datastore, '/vivim/profile/did:key:z…') // the record's bytes, or null
 * ```
 */
import { Libp2pRecord } from '@libp2p/record'
import { type Datastore, Key } from 'interface-datastore'
import { base32 } from 'multiformats/bases/base32'
import { dhtKey, verifiedRecord } from './dht-records.ts'

const DHT_RECORDS_PREFIX = '/dht/record/'

/** The valid value this node holds for a record key, or `null`. */
export async function localDhtValue(datastore: Datastore, recordKey: string): Promise<Uint8Array | null> {
  const key = dhtKey(recordKey)
  const dsKey = new Key(`${DHT_RECORDS_PREFIX}${base32.baseEncode(key)}`, false)
  try {
    const { value } = Libp2pRecord.deserialize(await datastore.get(dsKey))
    // What is on disk is checked like what comes from the network: the rules may have tightened since.
    await verifiedRecord(key, value)
    return new Uint8Array(value)
  } catch {
    return null
  }
}

/** How many DHT values the datastore holds (the bridge's own puts and those peers stored with it). */
export async function countDhtRecords(datastore: Datastore): Promise<number> {
  let count = 0
  for await (const _ of datastore.queryKeys({ prefix: DHT_RECORDS_PREFIX })) count++
  return count
}
