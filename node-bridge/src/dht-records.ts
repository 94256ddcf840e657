/**
 * The Kademlia DHT's rules for the `/vivim/` namespace: the same as the
 * edge's (`shared/src/record.ts`). A value under `/vivim/<kind>/<owner>…` is
 * the canonical bytes of a signed record for exactly that key; the validator
 * refuses anything else (bad signature, another key, non-canonical bytes,
 * oversize), and the selector keeps what `selectRecord` keeps, so every
 * peer and the edge agree on the winner.
 *
 * @example
 * ```ts
 * kadDHT({ validators: { [VIVIM_DHT_NAMESPACE]: validateVivimRecord }, selectors: { [VIVIM_DHT_NAMESPACE]: selectVivimRecord } })
 * ```
 */
import {
  bytesEqual,
  type ContentRecord,
  decodeRecord,
  ErrorCode,
  encodeRecord,
  selectRecordIndex,
  VivimError,
  validateRecord,
} from '@vivim/shared'

const decoder = new TextDecoder('utf-8', { fatal: true })
const encoder = new TextEncoder()

/** The DHT key of a record key: its UTF-8 bytes (the namespace is the first path segment, `vivim`). */
export function dhtKey(recordKey: string): Uint8Array {
  return encoder.encode(recordKey)
}

function keyText(key: Uint8Array): string {
  try {
    return decoder.decode(key)
  } catch {
    throw new VivimError(ErrorCode.InvalidKey, 'a DHT key of the vivim namespace is UTF-8')
  }
}

/** Decodes and fully checks the value stored under `key`; rejects with a `VivimError` naming the rule it breaks. */
export async function verifiedRecord(key: Uint8Array, value: Uint8Array): Promise<ContentRecord> {
  const recordKey = keyText(key)
  const record = decodeRecord(value)
  if (record.key !== recordKey) {
    throw new VivimError(ErrorCode.InvalidRecord, `the record is for ${record.key}, not ${recordKey}`)
  }
  await validateRecord(record)
  // Two encodings of one record would be two DHT values that compare unequal; only the canonical one is stored.
  if (!bytesEqual(encodeRecord(record), value)) {
    throw new VivimError(ErrorCode.InvalidEncoding, 'a DHT record is stored in its canonical encoding')
  }
  return record
}

/** The kad-dht validator of the namespace. */
export async function validateVivimRecord(key: Uint8Array, value: Uint8Array): Promise<void> {
  await verifiedRecord(key, value)
}

/** The kad-dht selector: the index of the record `selectRecord` keeps (invalid ones never win). */
export async function selectVivimRecord(key: Uint8Array, values: Uint8Array[]): Promise<number> {
  const records: ContentRecord[] = []
  const indexes: number[] = []
  const checked = await Promise.all(values.map((value) => verifiedRecord(key, value).catch(() => null)))
  checked.forEach((record, i) => {
    if (record === null) return
    records.push(record)
    indexes.push(i)
  })
  return records.length === 0 ? 0 : (indexes[selectRecordIndex(records)] as number)
}
