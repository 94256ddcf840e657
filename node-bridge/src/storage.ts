/**
 * Where a bridge keeps what must outlive a restart: one LevelDB datastore on
 * disk holding its private key (so its peer id never changes), libp2p's peer
 * store and the Kademlia DHT's records and provider records (both write to
 * the datastore they are given). The key is kept as libp2p's own protobuf
 * form under `/vivim/bridge/private-key`.
 *
 * @example
 * ```ts
 * const storage = await openStorage({ dataDir: './bridge-data' })
 * storage.privateKey.publicKey.toString() // the same on every start
 * await storage.close()
 * ```
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { ErrorCode, type Identity, identityFromSecretKey, VivimError } from '@vivim/shared'
import { MemoryDatastore } from 'datastore-core'
import { LevelDatastore } from 'datastore-level'
import { type Datastore, Key } from 'interface-datastore'

const PRIVATE_KEY = new Key('/vivim/bridge/private-key')
const ED25519_SEED_BYTES = 32

/** Where the bridge keeps its state. */
export interface StorageInit {
  /** The directory of the datastore; created if missing. `null` keeps everything in memory. */
  dataDir: string | null
}

/** The bridge's datastore and persistent key. */
export interface BridgeStorage {
  readonly datastore: Datastore
  /** Whether the datastore is on disk (a data directory), so what is written to it outlives the process. */
  readonly persistent: boolean
  readonly privateKey: PrivateKey
  /** The bridge's did:key identity: the same Ed25519 key as its peer id, for capabilities at the edge. */
  readonly identity: Identity
  /** Closes the datastore. */
  close(): Promise<void>
}

/** Opens (or creates) the datastore, and loads or creates the bridge's key in it. */
export async function openStorage(init: StorageInit): Promise<BridgeStorage> {
  if (init.dataDir === null) {
    const privateKey = await generateKeyPair('Ed25519')
    const datastore = new MemoryDatastore()
    return { datastore, persistent: false, privateKey, identity: identityOf(privateKey), close: async () => {} }
  }
  mkdirSync(init.dataDir, { recursive: true })
  const datastore = new LevelDatastore(join(init.dataDir, 'datastore'))
  try {
    await datastore.open()
  } catch (cause) {
    throw new VivimError(
      ErrorCode.Internal,
      `cannot open the datastore in ${init.dataDir} (is another bridge using it?)`,
      {
        cause,
      },
    )
  }
  let privateKey: PrivateKey
  if (await datastore.has(PRIVATE_KEY)) {
    privateKey = privateKeyFromProtobuf(await datastore.get(PRIVATE_KEY))
  } else {
    privateKey = await generateKeyPair('Ed25519')
    await datastore.put(PRIVATE_KEY, privateKeyToProtobuf(privateKey))
  }
  return { datastore, persistent: true, privateKey, identity: identityOf(privateKey), close: () => datastore.close() }
}

/** The did:key identity of an Ed25519 libp2p key (its raw form is the 32-byte seed, then the public key). */
export function identityOf(privateKey: PrivateKey): Identity {
  if (privateKey.type !== 'Ed25519') {
    throw new VivimError(ErrorCode.InvalidKey, `a bridge's key is Ed25519, not ${privateKey.type}`)
  }
  return identityFromSecretKey(privateKey.raw.subarray(0, ED25519_SEED_BYTES))
}
