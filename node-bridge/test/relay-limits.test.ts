/**
 * The limits of connections relayed through a bridge: libp2p's by default,
 * set by the operator (`relayLimit`, `--relay-limit-duration`,
 * `--relay-limit-data`), or lifted (`relayLimit: null`, `--no-relay-limit`),
 * seen from the two peers of a relayed connection.
 */
import type { Connection, Libp2p } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { afterEach, describe, expect, it } from 'vitest'
import type { BridgeInit, VivimBridge } from '../src/bridge.ts'
import { DEFAULT_RELAY_LIMIT, MAX_RELAY_DURATION_MS, relayLimitOptions } from '../src/node.ts'
import { parseOptions } from '../src/options.ts'
import { dialAddress, startBridge, waitFor } from './helpers.ts'
import { createRelayClient } from './plain-node.ts'

/** A protocol that counts what it is sent; it runs on limited connections only when registered so. */
const SINK = '/vivim-test/sink/1.0.0'

interface Relayed {
  /** The caller's connection to the hidden peer, through the bridge. */
  connection: Connection
  /** Bytes the hidden peer's sink has read. */
  received: () => number
  /** The limit the bridge applies to connections to the hidden peer (its reservation's). */
  applied: () => { data?: bigint; duration?: number } | undefined
}

const running: Array<Libp2p | VivimBridge> = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((n) => n.stop()))
})

/** A bridge, a peer reachable only through its relay, and a caller connected to that peer through it. */
async function relayedThrough(init: Partial<BridgeInit>): Promise<Relayed> {
  const bridge = await startBridge(init)
  running.push(bridge)
  const relayAddr = dialAddress(bridge)
  const hidden = await createRelayClient([`${relayAddr}/p2p-circuit`])
  const caller = await createRelayClient([])
  running.push(hidden, caller)
  let received = 0
  await hidden.handle(
    SINK,
    async (stream) => {
      for await (const chunk of stream) received += chunk.byteLength
    },
    { runOnLimitedConnection: true },
  )
  await waitFor('the hidden peer holds a reservation', () =>
    hidden.getMultiaddrs().some((a) => a.toString().includes('/p2p-circuit')),
  )
  const connection = await caller.dial(multiaddr(`${relayAddr}/p2p-circuit/p2p/${hidden.peerId}`))
  return {
    connection,
    received: () => received,
    applied: () => bridge.node.services.relay.reservations.get(hidden.peerId)?.limit,
  }
}

/** Sends `bytes` bytes on a new sink stream, heeding back-pressure; resolves or rejects when the stream ends. */
async function sendToSink(connection: Connection, bytes: number): Promise<void> {
  const stream = await connection.newStream(SINK, { runOnLimitedConnection: true })
  const chunk = new Uint8Array(4_096).fill(7)
  for (let sent = 0; sent < bytes; sent += chunk.byteLength) {
    if (!stream.send(chunk)) await stream.onDrain()
  }
  await stream.close()
}

describe('limits of connections relayed through the bridge', () => {
  it('by default, libp2p’s: 128 KiB, and only protocols that opt into limited connections run', async () => {
    const { connection, applied } = await relayedThrough({})
    expect(applied()).toEqual({
      data: BigInt(DEFAULT_RELAY_LIMIT.dataBytes),
      duration: DEFAULT_RELAY_LIMIT.durationMs,
    })
    // What is left of it: identify has already spent some.
    expect(connection.limits?.bytes).toBeLessThanOrEqual(BigInt(DEFAULT_RELAY_LIMIT.dataBytes))
    // Gossipsub, the DHT and document sync do not opt in: over such a connection they do not run.
    await expect(connection.newStream(SINK)).rejects.toThrow(/limited/i)
  })

  it('a data limit the operator sets is what the peers are told, and the relay cuts the connection past it', async () => {
    const { connection, received, applied } = await relayedThrough({ relayLimit: { dataBytes: 16_384 } })
    expect(applied()).toEqual({ data: 16_384n, duration: DEFAULT_RELAY_LIMIT.durationMs })
    expect(connection.limits?.bytes).toBeLessThanOrEqual(16_384n)
    await sendToSink(connection, 256 * 1_024).catch(() => {})
    await waitFor('the relay closed the relayed connection', () => connection.status !== 'open')
    expect(received()).toBeLessThan(256 * 1_024)
  })

  it('a duration limit the operator sets ends the relayed connection when it runs out', async () => {
    const { connection, applied } = await relayedThrough({ relayLimit: { durationMs: 1_000 } })
    expect(applied()?.duration).toBe(1_000)
    await waitFor('the relay closed the relayed connection', () => connection.status !== 'open')
  })

  it('lifted (relayLimit: null), a relayed connection is a full one: any protocol, past 128 KiB', async () => {
    const { connection, received, applied } = await relayedThrough({ relayLimit: null })
    expect(applied()).toBeUndefined()
    expect(connection.limits).toBeUndefined()
    const stream = await connection.newStream(SINK) // no opt-in needed
    await stream.close()
    await sendToSink(connection, 512 * 1_024)
    await waitFor('the hidden peer read it all', () => received() === 512 * 1_024)
    expect(connection.status).toBe('open')
  })

  it('a limit the relay cannot enforce is refused before the node starts', () => {
    expect(relayLimitOptions(undefined)).toEqual({})
    expect(relayLimitOptions(null)).toEqual({ applyDefaultLimit: false })
    expect(relayLimitOptions({ durationMs: 60_000, dataBytes: 1 })).toEqual({
      defaultDurationLimit: 60_000,
      defaultDataLimit: 1n,
    })
    // Node's timers fire at once past 2^31 - 1 ms: such a "long" limit would cut every relayed connection.
    expect(() => relayLimitOptions({ durationMs: MAX_RELAY_DURATION_MS + 1 })).toThrow(/duration/)
    expect(() => relayLimitOptions({ durationMs: 0 })).toThrow(/duration/)
    expect(() => relayLimitOptions({ dataBytes: 1.5 })).toThrow(/data/)
  })

  it('the command line: libp2p’s limits by default, each settable by flag or variable, or lifted', () => {
    expect(parseOptions([], {}).init.relayLimit).toEqual(DEFAULT_RELAY_LIMIT)
    expect(parseOptions(['--relay-limit-duration', '600000', '--relay-limit-data', '1048576'], {}).init).toMatchObject({
      relayLimit: { durationMs: 600_000, dataBytes: 1_048_576 },
    })
    expect(parseOptions([], { VIVIM_BRIDGE_RELAY_LIMIT_DATA: '65536' }).init.relayLimit).toEqual({
      durationMs: DEFAULT_RELAY_LIMIT.durationMs,
      dataBytes: 65_536,
    })
    expect(parseOptions(['--no-relay-limit'], {}).init.relayLimit).toBeNull()
    expect(parseOptions([], { VIVIM_BRIDGE_RELAY_LIMIT: 'false' }).init.relayLimit).toBeNull()
    expect(() => parseOptions(['--no-relay-limit', '--relay-limit-data', '1'], {})).toThrow(/--no-relay-limit/)
    expect(() => parseOptions(['--relay-limit-duration', String(2 ** 31)], {})).toThrow(/--relay-limit-duration/)
    expect(() => parseOptions(['--relay-limit-data', '0'], {})).toThrow(/--relay-limit-data/)
    expect(() => parseOptions(['--relay-limit-data', '128k'], {})).toThrow(/--relay-limit-data/)
  })
})
