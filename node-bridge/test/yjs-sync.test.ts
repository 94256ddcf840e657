import { multiaddr } from '@multiformats/multiaddr'
import { MessageType, YJS_SYNC_PROTOCOL } from '@vivim/shared'
import { writeDocName, YjsSync } from '@vivim/shared/mesh'
import * as lp from 'it-length-prefixed'
import * as encoding from 'lib0/encoding'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { VivimBridge } from '../src/bridge.ts'
import { dialAddress, startBridge, waitFor } from './helpers.ts'
import { createPlainNode } from './plain-node.ts'

describe('/vivim/yjs-sync/1.0.0', () => {
  let a: VivimBridge
  let b: VivimBridge

  beforeAll(async () => {
    a = await startBridge()
    b = await startBridge()
  })
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()])
  })

  it('two peers sync a Yjs document directly: both histories merge, then live edits flow both ways', async () => {
    const docA = a.document('notes')
    const docB = b.document('notes')
    docA.getText('t').insert(0, 'from a. ')
    docB.getMap('m').set('from', 'b')
    const session = await b.yjs.sync(multiaddr(dialAddress(a)), 'notes', docB)
    await session.synced
    await waitFor('a has b’s state', () => docA.getMap('m').get('from') === 'b')
    expect(docB.getText('t').toString()).toBe('from a. ')
    docA.getText('t').insert(docA.getText('t').length, 'live from a')
    await waitFor('b has a’s live edit', () => docB.getText('t').toString() === 'from a. live from a')
    docB.getMap('m').set('live', 'from b')
    await waitFor('a has b’s live edit', () => docA.getMap('m').get('live') === 'from b')
    await session.close()
  })

  it('a document the listener does not keep is refused (the stream is reset, and the dialer is told)', async () => {
    const session = await b.yjs.sync(multiaddr(dialAddress(a)), 'no-such-doc', b.document('other'))
    await session.closed
    await expect(session.synced).rejects.toThrow(/closed before/)
  })

  it('a frame that is not y-protocols sync aborts only that stream; the document is untouched', async () => {
    const before = a.document('notes').getText('t').toString()
    const stream = await b.node.dialProtocol(multiaddr(dialAddress(a)), YJS_SYNC_PROTOCOL)
    const name = encoding.createEncoder()
    writeDocName(name, 'notes')
    stream.send(lp.encode.single(encoding.toUint8Array(name)))
    const junk = encoding.createEncoder()
    encoding.writeVarUint(junk, MessageType.Sync)
    encoding.writeVarUint(junk, 2) // an update…
    encoding.writeVarUint8Array(junk, new Uint8Array([0xff, 0xff, 0xff, 0x01, 0x02])) // …that is not one
    stream.send(lp.encode.single(encoding.toUint8Array(junk)))
    await waitFor('the listener reset the stream', () => stream.status !== 'open')
    expect(a.document('notes').getText('t').toString()).toBe(before)
    // The connection and the protocol still serve a well-behaved sync.
    const session = await b.yjs.sync(multiaddr(dialAddress(a)), 'notes', b.document('notes'))
    await session.synced
    await session.close()
  })

  it('any libp2p node (here a plain one, as a Node app would run) syncs with a bridge through YjsSync', async () => {
    const app = await createPlainNode()
    const appDoc = new Y.Doc()
    const sync = new YjsSync({ node: app }, { docs: () => null })
    try {
      await sync.start()
      a.document('shared').getArray<string>('items').push(['from the bridge'])
      appDoc.getArray<string>('items').push(['from the app'])
      const session = await sync.sync(multiaddr(dialAddress(a)), 'shared', appDoc)
      await session.synced
      await waitFor('the bridge has the app’s item', () => a.document('shared').getArray('items').length === 2)
      expect([...appDoc.getArray<string>('items').toArray()].sort()).toEqual(['from the app', 'from the bridge'])
      await session.close()
    } finally {
      await sync.stop()
      await app.stop()
    }
  })
})
