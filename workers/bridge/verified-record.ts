/**
 * What the edge accepts from a bridge as a record: its canonical bytes, for
 * the key asked, valid under the same rules as a `PUT /v1/records/<key>`.
 * A bridge is a peer of the mesh, and the mesh is open: nothing it hands
 * over is trusted before it is checked.
 *
 * @example
 * ```ts
 * verifiedRecordBytes(bytes, '/vivim/profile/did:key:z…') // the canonical bytes, or null
 * ```
 */
import { bytesEqual, decodeRecord, encodeRecord, VivimError, validateRecord } from '@vivim/shared'

export function verifiedRecordBytes(bytes: Uint8Array, key: string): Uint8Array | null {
  try {
    const record = decodeRecord(bytes)
    if (record.key !== key) return null
    validateRecord(record)
    const canonical = encodeRecord(record)
    return bytesEqual(canonical, bytes) ? canonical : null
  } catch (error) {
    if (error instanceof VivimError) return null
    throw error
  }
}
