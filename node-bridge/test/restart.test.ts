import { rmSync } from 'node:fs'
import { encodeRecord } from '@vivim/shared'
import { afterAll, describe, expect, it } from 'vitest'
import { countDhtRecords } from '../src/dht-store.ts'
import { dialAddress, signedRecord, startBridge, tempDir, waitFor } from './helpers.ts'

describe('a bridge with a data directory', () => {
  const dataDir = tempDir()
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

  it('keeps its peer id, its DHT records and its peer store across a restart', async () => {
    const other = await startBridge()
    const first = await startBridge({ dataDir, bootstrap: [dialAddress(other)] })
    const peerId = first.peerId.toString()
    await waitFor('connected to the other peer', () => first.node.getConnections(other.peerId).length > 0)
    const { key, record } = signedRecord()
    expect(await first.records.put(encodeRecord(record))).toBe(true)
    await first.stop()
    await other.stop()

    // Alone this time: no bootstrap list, nobody to fetch the record from.
    const second = await startBridge({ dataDir })
    try {
      expect(second.peerId.toString()).toBe(peerId)
      expect(await second.records.get(key, { localOnly: true })).toEqual(encodeRecord(record))
      expect(await countDhtRecords(second.storage.datastore)).toBeGreaterThanOrEqual(1)
      expect(await second.node.peerStore.has(other.peerId)).toBe(true)
    } finally {
      await second.stop()
    }
  })

  it('a bridge without a data directory is a new peer each start', async () => {
    const one = await startBridge()
    const two = await startBridge()
    expect(one.peerId.equals(two.peerId)).toBe(false)
    await Promise.all([one.stop(), two.stop()])
  })
})
