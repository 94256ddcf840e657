/**
 * The browser peer's entry points under a hostile mesh peer, in Node (the
 * same module as in the browser): an attacker that reaches a peer through the
 * bridge's relay publishes forged, foreign and junk messages on a topic it
 * shares, and asks for a document that was never joined.
 */

import { multiaddr } from '@multiformats/multiaddr'
import type { VivimBridge } from '@vivim/bridge'
import { createMeshNode, type MeshLibp2p, MeshPeer, type MeshTopicMessage } from '@vivim/client/mesh'
import { createEnvelope, encodeEnvelope, generateIdentity, YJS_SYNC_PROTOCOL } from '@vivim/shared'
import { writeDocName } from '@vivim/shared/mesh'
import * as lp from 'it-length-prefixed'
import * as encoding from 'lib0/encoding'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startMeshBridge } from './mesh/harness.ts'

let bridge: VivimBridge
let bridgeAddress: string
let victim: MeshPeer
let attacker: MeshLibp2p

beforeAll(async () => {
  ;({ bridge, address: bridgeAddress } = await startMeshBridge())
  const init = { bridges: [bridgeAddress], allowPrivateAddresses: true, webRTC: false }
  victim = await MeshPeer.start(init, { identity: generateIdentity() })
  attacker = await createMeshNode(init)
  await attacker.start()
  await attacker.dial(multiaddr(bridgeAddress))
  const relayed = victim.addresses.find((a) => a.includes('/p2p-circuit'))
  if (relayed === undefined) throw new Error('the victim has no relayed address')
  await attacker.dial(multiaddr(relayed))
}, 60_000)

afterAll(async () => {
  await attacker?.stop()
  await victim?.stop()
  await bridge?.stop()
})

describe('a hostile mesh peer', () => {
  it('forged, foreign and junk messages are rejected before the app sees them; a genuine one after them is handed on', async () => {
    const topic = `public:abuse:${crypto.randomUUID()}`
    const received: MeshTopicMessage[] = []
    victim.topics.subscribe(topic, (m) => received.push(m))
    attacker.services.pubsub.subscribe(topic)
    await expect
      .poll(() => attacker.services.pubsub.getSubscribers(topic).map(String), { timeout: 30_000 })
      .toContain(victim.id)

    const someone = generateIdentity()
    const forged = encodeEnvelope(createEnvelope(someone, { topic, payload: new TextEncoder().encode('forged') }))
    // One payload byte changed after signing: a valid envelope shape whose signature no longer verifies.
    const at = Buffer.from(forged).indexOf('forged')
    forged[at] = (forged[at] as number) ^ 1
    const foreign = encodeEnvelope(
      createEnvelope(someone, { topic: 'public:abuse:elsewhere', payload: new Uint8Array(1) }),
    )
    const genuine = createEnvelope(someone, { topic, payload: new TextEncoder().encode('genuine') })
    for (const bytes of [forged, foreign, new Uint8Array([1, 2, 3])])
      await attacker.services.pubsub.publish(topic, bytes)
    await attacker.services.pubsub.publish(topic, encodeEnvelope(genuine))

    await expect.poll(() => victim.topics.rejected, { timeout: 30_000 }).toBe(3)
    await expect.poll(() => received.map((m) => m.text())).toEqual(['genuine'])
    expect(received[0]?.author).toBe(someone.did)
  })

  it('asking for a document that was never joined is refused, and the peer goes on serving', async () => {
    const stream = await attacker.dialProtocol(victim.node.peerId, YJS_SYNC_PROTOCOL, { runOnLimitedConnection: true })
    const name = encoding.createEncoder()
    writeDocName(name, 'notes:never-joined')
    stream.send(lp.encode.single(encoding.toUint8Array(name)))
    const frames: unknown[] = []
    await expect(
      (async () => {
        for await (const frame of lp.decode(stream)) frames.push(frame)
      })(),
    ).rejects.toThrow()
    expect(frames).toEqual([])
    expect(
      await attacker.services.ping.ping(victim.node.peerId, { runOnLimitedConnection: true }),
    ).toBeGreaterThanOrEqual(0)
  })
})
