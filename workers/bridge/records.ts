/**
 * Records and the libp2p mesh (through connected bridges): looked up on a local miss and told about
 * local writes. Wired in by `../indexer/record-elsewhere.ts`.
 */

/** Verified canonical bytes of the key's record from elsewhere, or `null`. */
export async function findRecordViaBridges(_env: Env, _key: string): Promise<Uint8Array | null> {
  return null
}

/** Called after a record is stored at this edge. */
export async function recordStoredForBridges(_env: Env, _bytes: Uint8Array): Promise<void> {}
