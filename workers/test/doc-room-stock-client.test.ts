import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { DocPeer } from './doc-peer.ts'
import { stockProvider, synced } from './fetch-websocket.ts'
import { Waiters } from './waiters.ts'

describe('the stock y-websocket client', () => {
  it('syncs through a room with a second client, both ways', async () => {
    const docId = `stock-${crypto.randomUUID()}`
    const stockDoc = new Y.Doc()
    stockDoc.getArray<string>('log').push(['from stock, offline'])
    const provider = stockProvider(docId, stockDoc)
    await synced(provider)
    const peer = await DocPeer.connect(docId)
    await peer.until(() => peer.doc.getArray('log').toArray().includes('from stock, offline'))
    peer.doc.getArray<string>('log').push(['from peer'])
    stockDoc.getArray<string>('log').push(['from stock, online'])
    const all = ['from stock, offline', 'from peer', 'from stock, online']
    await peer.until(() => all.every((i) => peer.doc.getArray('log').toArray().includes(i)))
    const stockUpdates = new Waiters()
    stockDoc.on('update', () => stockUpdates.notify())
    await stockUpdates.until(() => all.every((i) => stockDoc.getArray('log').toArray().includes(i)))
    expect(stockDoc.getArray('log').toArray()).toEqual(peer.doc.getArray('log').toArray())
    provider.destroy()
  })

  it('sees the other client’s awareness', async () => {
    const docId = `stock-${crypto.randomUUID()}`
    const provider = stockProvider(docId, new Y.Doc())
    provider.awareness.setLocalState({ name: 'Stock' })
    await synced(provider)
    const peer = await DocPeer.connect(docId)
    await peer.until(() => peer.awareness.has(provider.awareness.clientID))
    expect(peer.awareness.get(provider.awareness.clientID)).toEqual({ name: 'Stock' })
    provider.destroy()
    await peer.until(() => !peer.awareness.has(provider.awareness.clientID))
  })
})
