import { multiaddr } from '@multiformats/multiaddr'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { VivimBridge } from '../src/bridge.ts'
import { dialAddress, startBridge, waitFor } from './helpers.ts'
import { createRelayClient } from './plain-node.ts'

describe('the bridge as a circuit relay (v2)', () => {
  let bridge: VivimBridge
  beforeAll(async () => {
    bridge = await startBridge()
  })
  afterAll(async () => {
    await bridge?.stop()
  })

  it('a peer that cannot be dialled (it listens on nothing but the relay) is reached through the bridge', async () => {
    const relayAddr = dialAddress(bridge)
    // Only a reservation on the bridge: no TCP listener of its own, as behind a NAT or in a browser.
    const hidden = await createRelayClient([`${relayAddr}/p2p-circuit`])
    const caller = await createRelayClient([])
    try {
      await waitFor('the hidden peer holds a reservation', () =>
        hidden.getMultiaddrs().some((a) => a.toString().includes('/p2p-circuit')),
      )
      expect(hidden.getMultiaddrs().every((a) => a.toString().includes('/p2p-circuit'))).toBe(true)
      const connection = await caller.dial(multiaddr(`${relayAddr}/p2p-circuit/p2p/${hidden.peerId}`))
      expect(connection.remotePeer.equals(hidden.peerId)).toBe(true)
      expect(connection.remoteAddr.toString()).toContain('/p2p-circuit')
    } finally {
      await Promise.all([hidden.stop(), caller.stop()])
    }
  })
})
