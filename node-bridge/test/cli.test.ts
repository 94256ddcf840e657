import { rmSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { freePort } from '../../scripts/test-edge.ts'
import { parseOptions } from '../src/options.ts'
import { runCli as run } from './cli-process.ts'
import { tempDir, waitFor } from './helpers.ts'

describe('vivim-bridge, the command line', () => {
  const dataDir = tempDir()
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

  it('--help prints every flag with its environment variable and exits 0', async () => {
    const { lines, exited } = run(['--help'])
    expect(await exited).toBe(0)
    const text = lines.map((l) => l.text).join('\n')
    for (const flag of ['--listen', '--bootstrap', '--edge', '--topic', '--data-dir', '--mdns', '--metrics']) {
      expect(text).toContain(flag)
    }
    expect(text).toContain('VIVIM_EDGE_URL')
  })

  it('an unknown flag is refused with exit code 2', async () => {
    expect(await run(['--no-such-flag']).exited).toBe(2)
  })

  it('starts from environment variables, serves /metrics, and shuts down cleanly on SIGTERM', async () => {
    const metricsPort = await freePort()
    const bridge = run([], {
      VIVIM_BRIDGE_LISTEN: '/ip4/127.0.0.1/tcp/0',
      VIVIM_BRIDGE_DATA_DIR: dataDir,
      VIVIM_BRIDGE_MDNS: 'false',
      VIVIM_BRIDGE_METRICS: `127.0.0.1:${metricsPort}`,
      VIVIM_BRIDGE_LOG_FORMAT: 'json',
    })
    await waitFor('the bridge started', () => bridge.lines.some((l) => l.msg === 'bridge started'))
    const started = bridge.lines.find((l) => l.msg === 'bridge started') as {
      peerId: string
      did: string
      multiaddrs: string[]
    }
    expect(started.did).toMatch(/^did:key:z/)
    expect(started.multiaddrs.every((a) => a.startsWith('/ip4/127.0.0.1/tcp/'))).toBe(true)
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text()
    for (const name of [
      'vivim_bridge_peers',
      'vivim_bridge_topics',
      'vivim_bridge_messages_in_total',
      'vivim_bridge_dht_records',
      'vivim_bridge_edge_link_up',
    ]) {
      expect(metrics).toContain(name)
    }
    bridge.child.kill('SIGTERM')
    expect(await bridge.exited).toBe(0)
    expect(bridge.lines.some((l) => l.msg === 'bridge stopped')).toBe(true)

    // The datastore was closed cleanly: a second start opens it and has the same peer id.
    const again = run([
      '--listen',
      '/ip4/127.0.0.1/tcp/0',
      '--data-dir',
      dataDir,
      '--no-mdns',
      '--metrics',
      'off',
      '--log-format',
      'json',
    ])
    await waitFor('the bridge started again', () => again.lines.some((l) => l.msg === 'bridge started'))
    expect((again.lines.find((l) => l.msg === 'bridge started') as { peerId: string }).peerId).toBe(started.peerId)
    again.child.kill('SIGINT')
    expect(await again.exited).toBe(0)
  })

  it('mDNS is on by default and turned off by --no-mdns or VIVIM_BRIDGE_MDNS=false; flags win over variables', () => {
    expect(parseOptions([], {}).init.mdns).toBe(true)
    expect(parseOptions(['--no-mdns'], {}).init.mdns).toBe(false)
    expect(parseOptions([], { VIVIM_BRIDGE_MDNS: 'false' }).init.mdns).toBe(false)
    expect(parseOptions(['--mdns'], { VIVIM_BRIDGE_MDNS: 'false' }).init.mdns).toBe(true)
    expect(() => parseOptions([], { VIVIM_BRIDGE_MDNS: 'maybe' })).toThrow(/true or false/)
  })

  it('lists come from repeated flags or comma-separated variables; bad values are refused', () => {
    const fromEnv = parseOptions([], {
      VIVIM_BRIDGE_TOPICS: 'public:a:b, public:*',
      VIVIM_EDGE_URL: 'http://127.0.0.1:1',
    })
    expect(fromEnv.init.topics).toEqual(['public:a:b', 'public:*'])
    expect(fromEnv.init.edgeUrl).toBe('http://127.0.0.1:1')
    expect(parseOptions(['--topic', 'public:x:y', '--topic', 'circle:*'], {}).init.topics).toEqual([
      'public:x:y',
      'circle:*',
    ])
    expect(parseOptions(['--data-dir', 'memory', '--metrics', 'off'], {}).init).toMatchObject({
      dataDir: null,
      metrics: null,
    })
    expect(() => parseOptions(['--metrics', 'nowhere'], {})).toThrow(/host:port/)
    expect(() => parseOptions(['--max-connections', '0'], {})).toThrow(/positive/)
    expect(() => parseOptions(['--log-level', 'loud'], {})).toThrow(/log-level/)
    expect(() => parseOptions(['--edge', 'not a url'], {})).toThrow(/--edge/)
    expect(() => parseOptions(['--token', 'junk'], {})).toThrow(/--token/)
    expect(() => parseOptions(['--topic', 'Not A Topic'], {})).toThrow(/--topic/)
  })

  it('a bad --edge is refused with exit code 2 before anything starts, instead of leaving a node running', async () => {
    expect(await run(['--edge', 'ftp://example', '--data-dir', 'memory', '--metrics', 'off']).exited).toBe(2)
  })
})
