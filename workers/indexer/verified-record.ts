/**
 * What the edge accepts as a record from elsewhere (a bridge, a federated
 * peer): its canonical bytes, for the key asked, valid under the same rules
 * as a `PUT /v1/records/<key>`. The mesh is open and peers are other
 * instances: nothing they hand over is trusted before it is checked.
 *
 * @example
 * ```ts
 * await verifiedRecordBytes(bytes, '/vivim/profile/did:key:z…') // the canonical bytes, or null
 * ```
 */
import { bytesEqual, decodeRecord, encodeRecord, VivimError, validateRecord } from '@vivim/shared'

export async function verifiedRecordBytes(bytes: Uint8Array, key: string): Promise<Uint8Array | null> {
  try {
    const record = decodeRecord(bytes)
    if (record.key !== key) return null
    await validateRecord(record)
    return bytesEqual(encodeRecord(record), bytes) ? bytes : null
  } catch (error) {
    if (error instanceof VivimError) return null
    throw error
  }
}
