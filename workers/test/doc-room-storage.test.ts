import { env, evictDurableObject, runInDurableObject } from 'cloudflare:test'
import { CloseCode, compareClocks, fromStateVector, Limits, mergeClocks, type VectorClock } from '@vivim/shared'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { DEFAULT_DOC_STORE_OPTIONS } from '../relay/doc-store.ts'
import { DocPeer } from './doc-peer.ts'
import { stockProvider, synced } from './fetch-websocket.ts'

const clock = (doc: Y.Doc): VectorClock => fromStateVector(Y.encodeStateVector(doc))

async function storedBytes(docId: string): Promise<{ log: number; snapshot: number; rows: number }> {
  return runInDurableObject(env.DOC_ROOM.getByName(docId), (_, state) => {
    const log = state.storage.sql
      .exec<{ n: number; b: number }>('SELECT COUNT(*) AS n, COALESCE(SUM(length(data)), 0) AS b FROM doc_updates')
      .one()
    const snapshot = state.storage.sql
      .exec<{ b: number }>('SELECT COALESCE(SUM(length(data)), 0) AS b FROM doc_snapshot')
      .one()
    return { log: log.b, snapshot: snapshot.b, rows: log.n }
  })
}

describe('document storage', () => {
  it('compaction keeps stored bytes bounded over 10,000 updates', { timeout: 120_000 }, async () => {
    const docId = `compact-${crypto.randomUUID()}`
    const writers = await Promise.all(Array.from({ length: 10 }, () => DocPeer.connect(docId)))
    await Promise.all(writers.map((w) => w.until(() => w.synced)))
    const padding = 'x'.repeat(1000)
    let sentBytes = 0
    writers.forEach((w, i) => {
      w.doc.on('update', (u: Uint8Array, origin: unknown) => {
        if (origin !== w) sentBytes += u.length
      })
      for (let n = 0; n < 1000; n++) w.doc.getMap('settings').set(`key${n % 10}`, `${i}:${n}:${padding}`)
    })
    const everything = writers.map((w) => clock(w.doc)).reduce(mergeClocks)
    await Promise.all(writers.map((w) => w.until(() => compareClocks(clock(w.doc), everything) === 'equal')))
    const encoded = Y.encodeStateAsUpdate(writers[0]?.doc as Y.Doc).length
    const stored = await storedBytes(docId)
    expect(sentBytes).toBeGreaterThan(10_000_000)
    expect(stored.log + stored.snapshot).toBeLessThan(2 * encoded + DEFAULT_DOC_STORE_OPTIONS.compactAfterBytes)
    expect(stored.rows).toBeLessThan(DEFAULT_DOC_STORE_OPTIONS.compactAfterRows)
    const late = await DocPeer.connect(docId)
    await late.until(() => compareClocks(clock(late.doc), everything) === 'equal')
    expect(late.doc.getMap('settings').toJSON()).toEqual(writers[0]?.doc.getMap('settings').toJSON())
  })

  it('a 10 MB document syncs to a new client and survives eviction', { timeout: 120_000 }, async () => {
    const docId = `large-${crypto.randomUUID()}`
    const writer = await DocPeer.connect(docId)
    const watcher = await DocPeer.connect(docId)
    await writer.until(() => writer.synced)
    const blobs = writer.doc.getMap<Uint8Array>('blobs')
    for (let i = 0; i < 12; i++) {
      const blob = new Uint8Array(900_000)
      crypto.getRandomValues(blob.subarray(0, 65_536))
      blob.fill(i, 65_536)
      blobs.set(`b${i}`, blob)
      await watcher.until(() => watcher.doc.getMap('blobs').has(`b${i}`))
    }
    const size = Y.encodeStateAsUpdate(writer.doc).length
    expect(size).toBeGreaterThan(10_000_000)
    await evictDurableObject(env.DOC_ROOM.getByName(docId), { webSockets: 'close' })
    const reader = await DocPeer.connect(docId)
    await reader.until(() => reader.doc.getMap('blobs').size === 12)
    expect(Y.encodeStateAsUpdate(reader.doc).length).toBe(size)
    for (let i = 0; i < 12; i++) {
      expect(reader.doc.getMap<Uint8Array>('blobs').get(`b${i}`)).toEqual(blobs.get(`b${i}`))
    }
    const stockDoc = new Y.Doc()
    const provider = stockProvider(docId, stockDoc)
    await synced(provider)
    expect(Y.encodeStateAsUpdate(stockDoc).length).toBe(size)
    expect(stockDoc.getMap<Uint8Array>('blobs').get('b11')).toEqual(blobs.get('b11'))
    provider.destroy()
  })

  it('refuses a write past the document size limit with a clear close reason', { timeout: 120_000 }, async () => {
    const docId = `limit-${crypto.randomUUID()}`
    const writer = await DocPeer.connect(docId)
    const bystander = await DocPeer.connect(docId)
    await writer.until(() => writer.synced)
    const blobs = writer.doc.getMap<Uint8Array>('blobs')
    const count = Math.ceil(Limits.maxDocumentBytes / 900_000) + 1
    for (let i = 0; i < count && writer.closed === null; i++) {
      const echoes = writer.updatesReceived
      blobs.set(`b${i}`, new Uint8Array(900_000).fill(i))
      await writer.until(() => writer.closed !== null || writer.updatesReceived > echoes)
    }
    const closed = await writer.closedWith()
    expect(closed.code).toBe(CloseCode.DocumentTooLarge)
    expect(closed.reason).toMatch(/exceed/)
    expect(bystander.closed).toBeNull()
    const stored = await storedBytes(docId)
    expect(stored.log + stored.snapshot).toBeLessThanOrEqual(Limits.maxDocumentBytes)
  })
})
