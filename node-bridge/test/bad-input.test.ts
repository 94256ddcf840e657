import type { Message } from '@libp2p/gossipsub'
import { multiaddr } from '@multiformats/multiaddr'
import {
  Backoff,
  createEnvelope,
  decodeEnvelope,
  encodeEnvelope,
  encodeRecord,
  generateIdentity,
  messageId,
} from '@vivim/shared'
import { describe, expect, it } from 'vitest'
import { freePort, startEdge } from '../../scripts/test-edge.ts'
import { EdgeSubscriber } from './edge-client.ts'
import { dialAddress, signedRecord, startBridge, waitFor } from './helpers.ts'
import { createPlainNode } from './plain-node.ts'

const TOPIC = 'public:bridge:bad-input'

function scoreOf(pubsub: unknown, peer: string): number {
  return (pubsub as { getScore(id: string): number }).getScore(peer)
}

describe('bad input at the bridge', () => {
  it('malformed and forged Gossipsub payloads are rejected, never delivered, and score the sender down', async () => {
    const bridge = await startBridge({ topics: [TOPIC] })
    const honest = await startBridge({ bootstrap: [dialAddress(bridge)], topics: [TOPIC] })
    const attacker = await createPlainNode()
    try {
      const delivered: Message[] = []
      honest.node.services.pubsub.addEventListener('message', (e) => delivered.push(e.detail))
      await attacker.dial(multiaddr(dialAddress(bridge)))
      attacker.services.pubsub.subscribe(TOPIC)
      await waitFor('the attacker is a subscriber', () =>
        bridge.node.services.pubsub.getSubscribers(TOPIC).some((id) => id.equals(attacker.peerId)),
      )
      await waitFor('the honest peer is a subscriber', () =>
        bridge.node.services.pubsub.getSubscribers(TOPIC).some((id) => id.equals(honest.peerId)),
      )
      const before = scoreOf(bridge.node.services.pubsub, attacker.peerId.toString())
      const forged = { ...createEnvelope(generateIdentity(), { topic: TOPIC, payload: new Uint8Array([1]) }) }
      const tampered = encodeEnvelope({ ...forged, payload: new Uint8Array([2]) })
      const wrongTopic = encodeEnvelope(
        createEnvelope(generateIdentity(), { topic: 'public:bridge:other', payload: new Uint8Array([3]) }),
      )
      for (const junk of [new Uint8Array([0xff, 0x00, 0x01]), tampered, wrongTopic]) {
        await attacker.services.pubsub.publish(TOPIC, junk)
      }
      await waitFor('the bridge rejected all three', async () => {
        const text = await bridge.metrics.registry.getSingleMetricAsString('vivim_bridge_messages_rejected_total')
        return / 3$/m.test(text)
      })
      await waitFor(
        'the attacker’s score fell',
        () => scoreOf(bridge.node.services.pubsub, attacker.peerId.toString()) < before,
      )
      expect(scoreOf(bridge.node.services.pubsub, attacker.peerId.toString())).toBeLessThan(0)
      // A valid message after them, from another peer, goes through; nothing of the junk did.
      const good = createEnvelope(generateIdentity(), { topic: TOPIC, payload: new TextEncoder().encode('ok') })
      await bridge.node.services.pubsub.publish(TOPIC, encodeEnvelope(good))
      await waitFor('the honest peer got the valid one', () => delivered.length > 0)
      expect(delivered.map((m) => Buffer.from(m.data).toString('hex'))).toEqual([
        Buffer.from(encodeEnvelope(good)).toString('hex'),
      ])
    } finally {
      await Promise.all([attacker.stop(), honest.stop(), bridge.stop()])
    }
  })

  it('an unreachable edge is retried with back-off while the mesh keeps working; what waited reaches it once it is up', async () => {
    const port = await freePort()
    const edgeUrl = `http://127.0.0.1:${port}`
    const bridge = await startBridge({ edgeUrl, topics: [TOPIC] })
    const peer = await startBridge({ bootstrap: [dialAddress(bridge)], topics: [TOPIC] })
    let edge: Awaited<ReturnType<typeof startEdge>> | null = null
    try {
      await waitFor('the link retried three times', () => (bridge.link?.retries ?? 0) >= 3)
      expect(bridge.link?.state).not.toBe('open')
      // The mesh does not wait for the edge: topics and the DHT work between the peers.
      const received: string[] = []
      bridge.node.services.pubsub.addEventListener('message', (e) =>
        received.push(messageId(decodeEnvelope(e.detail.data))),
      )
      await waitFor('the peers share the topic', () =>
        peer.node.services.pubsub.getSubscribers(TOPIC).some((id) => id.equals(bridge.peerId)),
      )
      const sent = createEnvelope(generateIdentity(), {
        topic: TOPIC,
        payload: new TextEncoder().encode('while the edge was down'),
      })
      await peer.node.services.pubsub.publish(TOPIC, encodeEnvelope(sent))
      await waitFor('the bridge got it over the mesh', () => received.includes(messageId(sent)))
      const { key, record } = signedRecord()
      expect(await peer.records.put(encodeRecord(record))).toBe(true)
      await waitFor('the bridge finds the record in the DHT', async () => (await bridge.records.get(key)) !== null)

      edge = await startEdge({ port })
      await waitFor('the link came up', () => bridge.link?.state === 'open', 60_000)
      const history = await EdgeSubscriber.connect(edgeUrl, TOPIC, { cursor: 0 })
      await waitFor('the edge holds the message that waited', () => history.count(messageId(sent)) === 1)
      history.close()
    } finally {
      await Promise.all([peer.stop(), bridge.stop()])
      await edge?.stop()
    }
  }, 120_000)

  it('back-off delays grow to their cap and carry jitter', () => {
    const top = new Backoff({ initialMs: 100, maxMs: 1_000, random: () => 0.999 })
    expect([1, 2, 3, 4, 5, 6].map(() => top.next())).toEqual([99, 199, 399, 799, 999, 999])
    const bottom = new Backoff({ initialMs: 100, maxMs: 1_000, random: () => 0 })
    expect(bottom.next()).toBe(0)
    top.reset()
    expect(top.next()).toBe(99)
  })
})
