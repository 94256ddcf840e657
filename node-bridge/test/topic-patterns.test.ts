import { SeenIds } from '@vivim/shared/mesh'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { VivimBridge } from '../src/bridge.ts'
import { topicMatches } from '../src/topic-bridge.ts'
import { dialAddress, startBridge, waitFor } from './helpers.ts'

describe('topic patterns and message ids', () => {
  let bridge: VivimBridge
  let peer: VivimBridge

  beforeAll(async () => {
    bridge = await startBridge({ topics: ['public:pattern:*', 'public:exact:one'] })
    peer = await startBridge({ bootstrap: [dialAddress(bridge)] })
    await waitFor('the peers are connected', () => peer.node.getConnections(bridge.peerId).length > 0)
  })
  afterAll(async () => {
    await Promise.all([peer?.stop(), bridge?.stop()])
  })

  it('a name is joined at start; a pattern joins a matching topic once a mesh peer subscribes to it', async () => {
    expect(bridge.topics.topics()).toEqual(['public:exact:one'])
    peer.node.services.pubsub.subscribe('public:pattern:news')
    peer.node.services.pubsub.subscribe('public:other:news')
    await waitFor('the bridge joined the matching topic', () => bridge.topics.topics().includes('public:pattern:news'))
    expect(bridge.node.services.pubsub.getTopics()).toContain('public:pattern:news')
    expect(bridge.topics.topics()).not.toContain('public:other:news')
  })

  it('patterns match by prefix, names exactly', () => {
    expect(topicMatches('public:*', 'public:a:b')).toBe(true)
    expect(topicMatches('public:a:*', 'public:b:c')).toBe(false)
    expect(topicMatches('public:a:b', 'public:a:bc')).toBe(false)
  })

  it('the seen set forwards an id once and forgets the oldest past its bound', () => {
    const seen = new SeenIds(2)
    expect(seen.add('a')).toBe(true)
    expect(seen.add('a')).toBe(false)
    seen.add('b')
    seen.add('c')
    expect(seen.has('a')).toBe(false)
    expect(seen.size).toBe(2)
  })
})
