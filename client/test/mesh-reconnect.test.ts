/**
 * The browser peer's module in Node (the same code as in the browser), on
 * the relay alone: when the connection between two peers goes (a relay's
 * limit, a network change), they dial again and their document syncs again.
 */

import { peerIdFromString } from '@libp2p/peer-id'
import type { VivimBridge } from '@vivim/bridge'
import { MeshPeer } from '@vivim/client/mesh'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { startMeshBridge } from './mesh/harness.ts'

let bridge: VivimBridge
let bridgeAddress: string
const peers: MeshPeer[] = []

beforeAll(async () => {
  ;({ bridge, address: bridgeAddress } = await startMeshBridge())
}, 60_000)

afterAll(async () => {
  await Promise.all(peers.map((p) => p.stop()))
  await bridge?.stop()
})

async function peer(): Promise<MeshPeer> {
  const started = await MeshPeer.start({ bridges: [bridgeAddress], allowPrivateAddresses: true, webRTC: false })
  peers.push(started)
  return started
}

const text = (doc: Y.Doc) => doc.getText('t').toString()

describe('the browser peer when a connection goes', () => {
  it('two peers dial each other again and their document syncs again', async () => {
    const name = `notes:${crypto.randomUUID()}`
    const [alice, bob] = [await peer(), await peer()]
    const [a, b] = [new Y.Doc(), new Y.Doc()]
    alice.docs.join(name, a)
    a.getText('t').insert(0, 'one ')
    bob.docs.join(name, b)
    await expect.poll(() => text(b), { timeout: 60_000 }).toBe('one ')
    expect(bob.path(alice.id)).toBe('relay')

    // The connection goes; each side's edits wait, and meet once the peers are connected again.
    await bob.node.hangUp(peerIdFromString(alice.id))
    a.getText('t').insert(a.getText('t').length, 'two ')
    b.getText('t').insert(0, 'zero ')
    const met = () => text(a) === text(b) && text(a).includes('two ') && text(a).includes('zero ')
    await expect.poll(met, { timeout: 60_000 }).toBe(true)
    expect(bob.path(alice.id)).toBe('relay')
  }, 180_000)
})
