import type { Message } from '@libp2p/gossipsub'
import { multiaddr } from '@multiformats/multiaddr'
import { createEnvelope, decodeEnvelope, generateIdentity, messageId, validateEnvelope } from '@vivim/shared'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningEdge, startEdge } from '../../scripts/test-edge.ts'
import type { VivimBridge } from '../src/bridge.ts'
import { publishAtEdge } from './edge-client.ts'
import { dialAddress, startBridge, waitFor } from './helpers.ts'
import { createPlainNode } from './plain-node.ts'

const TOPIC = 'public:bridge:plain-node'

describe('a plain libp2p node (public packages only)', () => {
  let edge: RunningEdge
  let bridge: VivimBridge

  beforeAll(async () => {
    edge = await startEdge()
    bridge = await startBridge({ edgeUrl: edge.url, topics: [TOPIC] })
  }, 180_000)
  afterAll(async () => {
    await bridge?.stop()
    await edge?.stop()
  })

  it('dials the bridge, subscribes to a topic and receives what the edge publishes', async () => {
    const plain = await createPlainNode()
    try {
      const received: Message[] = []
      plain.services.pubsub.addEventListener('message', (event) => received.push(event.detail))
      await plain.dial(multiaddr(dialAddress(bridge)))
      plain.services.pubsub.subscribe(TOPIC)
      await waitFor('the bridge sees the subscription', () =>
        bridge.node.services.pubsub.getSubscribers(TOPIC).some((id) => id.equals(plain.peerId)),
      )
      const sent = createEnvelope(generateIdentity(), { topic: TOPIC, payload: new TextEncoder().encode('hello mesh') })
      await publishAtEdge(edge.url, sent)
      await waitFor('the plain node got it', () => received.length > 0)
      const got = decodeEnvelope((received[0] as Message).data)
      // What arrives is the author's envelope: anyone can check it without trusting the bridge.
      validateEnvelope(got, { topic: TOPIC })
      expect(messageId(got)).toBe(messageId(sent))
    } finally {
      await plain.stop()
    }
  })
})
