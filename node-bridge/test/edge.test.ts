import type { Message } from '@libp2p/gossipsub'
import {
  bytesEqual,
  createEnvelope,
  decodeEnvelope,
  encodeEnvelope,
  encodeRecord,
  generateIdentity,
  messageId,
  type TopicEnvelope,
} from '@vivim/shared'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningEdge, startEdge } from '../../scripts/test-edge.ts'
import type { VivimBridge } from '../src/bridge.ts'
import { EdgeSubscriber, publishAtEdge } from './edge-client.ts'
import { dialAddress, eventually, signedRecord, startBridge, waitFor } from './helpers.ts'

const TOPIC = 'public:bridge:edge-test'
const alice = generateIdentity()
const text = (e: TopicEnvelope) => new TextDecoder().decode(e.payload)

describe('a bridge joined to an edge (wrangler dev)', () => {
  let edge: RunningEdge
  let bridge: VivimBridge
  let peer: VivimBridge
  const meshReceived: TopicEnvelope[] = []

  beforeAll(async () => {
    edge = await startEdge()
    bridge = await startBridge({ edgeUrl: edge.url, topics: [TOPIC] })
    // A mesh peer with no edge of its own: it reaches the edge only through the bridge.
    peer = await startBridge({ bootstrap: [dialAddress(bridge)], topics: [TOPIC] })
    peer.node.services.pubsub.addEventListener('message', (event: CustomEvent<Message>) => {
      if (event.detail.topic === TOPIC) meshReceived.push(decodeEnvelope(event.detail.data))
    })
    await waitFor('the hub knows the bridge', async () => {
      const { bridges } = (await (await fetch(`${edge.url}/v1/bridge/peers`)).json()) as { bridges: { peer: string }[] }
      return bridges.some((b) => b.peer === bridge.peerId.toString())
    })
    await waitFor('the peers share the topic mesh', () =>
      peer.node.services.pubsub.getSubscribers(TOPIC).some((id) => id.equals(bridge.peerId)),
    )
  }, 180_000)

  afterAll(async () => {
    await Promise.all([peer?.stop(), bridge?.stop()])
    await edge?.stop()
  })

  it('a Gossipsub message from the mesh reaches an edge subscriber exactly once, still signed by its author', async () => {
    const subscriber = await EdgeSubscriber.connect(edge.url, TOPIC)
    const sent = createEnvelope(alice, { topic: TOPIC, payload: new TextEncoder().encode('from the mesh') })
    await peer.node.services.pubsub.publish(TOPIC, encodeEnvelope(sent))
    await waitFor('the edge subscriber got it', () => subscriber.count(messageId(sent)) > 0)
    // A later message on the same path: anything looping would have come back before it.
    const marker = createEnvelope(alice, { topic: TOPIC, payload: new TextEncoder().encode('marker 1') })
    await peer.node.services.pubsub.publish(TOPIC, encodeEnvelope(marker))
    await waitFor('the marker arrived', () => subscriber.count(messageId(marker)) > 0)
    expect(subscriber.count(messageId(sent))).toBe(1)
    const got = subscriber.envelopes.find((e) => messageId(e) === messageId(sent)) as TopicEnvelope
    expect(bytesEqual(got.signature, sent.signature)).toBe(true)
    expect(text(got)).toBe('from the mesh')
    // The edge's echo of the bridge's own publish did not come back into the mesh either.
    expect(meshReceived.filter((e) => messageId(e) === messageId(sent))).toHaveLength(0)
    subscriber.close()
  })

  it('a message published at the edge reaches a mesh peer exactly once, with its original signature', async () => {
    const sent = createEnvelope(alice, { topic: TOPIC, payload: new TextEncoder().encode('from the edge') })
    await publishAtEdge(edge.url, sent)
    await waitFor('the mesh peer got it', () => meshReceived.some((e) => messageId(e) === messageId(sent)))
    const marker = createEnvelope(alice, { topic: TOPIC, payload: new TextEncoder().encode('marker 2') })
    await publishAtEdge(edge.url, marker)
    await waitFor('the marker arrived', () => meshReceived.some((e) => messageId(e) === messageId(marker)))
    const copies = meshReceived.filter((e) => messageId(e) === messageId(sent))
    expect(copies).toHaveLength(1)
    expect(bytesEqual((copies[0] as TopicEnvelope).signature, sent.signature)).toBe(true)
  })

  it('a record put at the edge is mirrored into the DHT, where a mesh peer finds it', async () => {
    const { key, record } = signedRecord(generateIdentity(), 'put at the edge')
    const res = await fetch(`${edge.url}/v1/records${key}`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/cbor' },
      body: encodeRecord(record),
    })
    expect(res.status).toBe(201)
    const found = await eventually('the mesh peer finds it in the DHT', () => peer.records.get(key))
    expect(found).toEqual(encodeRecord(record))
  })

  it('a record the edge lacks is found in the DHT through the bridge and served by the edge', async () => {
    const { key, record } = signedRecord(generateIdentity(), 'only in the mesh')
    expect(await peer.records.put(encodeRecord(record))).toBe(true)
    const res = await fetch(`${edge.url}/v1/records${key}`)
    expect(res.status).toBe(200)
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(encodeRecord(record))
    // The mesh's providers of the key were handed to the edge's index too.
    await waitFor('the edge lists a mesh provider', async () => {
      const { providers } = (await (await fetch(`${edge.url}/v1/providers${key}`)).json()) as {
        providers: { peer: string }[]
      }
      return providers.some((p) => p.peer === peer.peerId.toString())
    })
  })

  it('a key nobody has is a plain 404 at the edge, even with a bridge linked', async () => {
    const { key } = signedRecord()
    const res = await fetch(`${edge.url}/v1/records${key}`)
    expect(res.status).toBe(404)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_found')
  })
})
