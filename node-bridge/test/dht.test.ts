import { ErrorCode, encodeRecord, generateIdentity, VivimError } from '@vivim/shared'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { VivimBridge } from '../src/bridge.ts'
import { dhtKey, selectVivimRecord, validateVivimRecord } from '../src/dht-records.ts'
import { dialAddress, eventually, signedRecord, startBridge, waitFor } from './helpers.ts'

describe('the mesh: discovery and the DHT', () => {
  let boot: VivimBridge
  let a: VivimBridge
  let b: VivimBridge

  beforeAll(async () => {
    boot = await startBridge()
    a = await startBridge({ bootstrap: [dialAddress(boot)] })
    b = await startBridge({ bootstrap: [dialAddress(boot)] })
  })
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop(), boot?.stop()])
  })

  it('two peers that know only a bootstrap node find and connect to each other', async () => {
    expect(a.node.getConnections(b.peerId)).toHaveLength(0)
    await waitFor('a connected to b', () => a.node.getConnections(b.peerId).length > 0)
    await waitFor('b in the DHT routing table of a', async () => (await a.node.peerStore.has(b.peerId)) === true)
  })

  it('a record put on one node is found on another through the DHT', async () => {
    const { key, record } = signedRecord()
    await waitFor('a has DHT peers', () => a.node.getPeers().length >= 2)
    expect(await a.records.put(encodeRecord(record))).toBe(true)
    const found = await eventually('b finds the record', () => b.records.get(key))
    expect(found).toEqual(encodeRecord(record))
  })

  it('a newer record replaces an older one, and an older one put later does not win', async () => {
    const author = generateIdentity()
    const older = signedRecord(author, 'old', Date.now() - 10_000)
    const newer = signedRecord(author, 'new', Date.now())
    expect(await a.records.put(encodeRecord(newer.record))).toBe(true)
    expect(await a.records.put(encodeRecord(older.record))).toBe(false)
    await waitFor('b finds the newer record', async () => {
      const found = await b.records.get(newer.key)
      return found !== null && Buffer.from(found).equals(encodeRecord(newer.record))
    })
  })

  it('a tampered record is refused by the validator and by every node it is put to', async () => {
    const { key, record } = signedRecord()
    const tampered = encodeRecord({ ...record, value: new TextEncoder().encode('forged') })
    await expect(validateVivimRecord(dhtKey(key), tampered)).rejects.toThrow(VivimError)
    await expect(a.records.put(tampered)).rejects.toMatchObject({ code: ErrorCode.InvalidSignature })
    // Straight into the DHT API, past the mirror: the peers it is sent to refuse to store it.
    const events: string[] = []
    for await (const event of a.node.services.dht.put(dhtKey(key), tampered)) events.push(event.name)
    // Each peer sent the value resets the stream instead of storing it.
    expect(events.filter((name) => name === 'QUERY_ERROR')).toHaveLength(2)
    expect(await b.records.get(key, { localOnly: true })).toBeNull()
    expect(await boot.records.get(key, { localOnly: true })).toBeNull()
    expect(await b.records.get(key)).toBeNull()
  })

  it('the validator refuses a record under another key, a non-canonical encoding, and junk', async () => {
    const one = signedRecord()
    const other = signedRecord()
    await expect(validateVivimRecord(dhtKey(other.key), encodeRecord(one.record))).rejects.toThrow(/not/)
    await expect(validateVivimRecord(dhtKey(one.key), new Uint8Array([1, 2, 3]))).rejects.toThrow(VivimError)
    await expect(validateVivimRecord(new Uint8Array([0xff, 0xfe]), encodeRecord(one.record))).rejects.toThrow(
      VivimError,
    )
  })

  it('the selector keeps the newer valid record and never an invalid one', async () => {
    const author = generateIdentity()
    const older = signedRecord(author, 'old', 1_000)
    const newer = signedRecord(author, 'new', 2_000)
    const key = dhtKey(older.key)
    expect(await selectVivimRecord(key, [encodeRecord(older.record), encodeRecord(newer.record)])).toBe(1)
    const forged = encodeRecord({ ...newer.record, timestamp: 3_000 })
    expect(await selectVivimRecord(key, [forged, encodeRecord(older.record)])).toBe(1)
  })

  it('a provider the edge announces is added to the peer store, so the bridge can dial it', async () => {
    const { key } = signedRecord()
    const stranger = await startBridge()
    try {
      expect(await a.node.peerStore.has(stranger.peerId)).toBe(false)
      const addrs = stranger.multiaddrs().map((m) => m.decapsulateCode(421).toString())
      await a.records.handle({ t: 'prov', key, peer: stranger.peerId.toString(), addrs, ttl: 60 })
      const known = await a.node.peerStore.get(stranger.peerId)
      expect(known.addresses.map((x) => x.multiaddr.toString()).sort()).toEqual([...addrs].sort())
      await a.node.dial(stranger.peerId)
    } finally {
      await stranger.stop()
    }
  })
})
