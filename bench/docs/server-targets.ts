/**
 * The servers under test, each started as its own child process on its
 * own port and checked with a real sync before it is used:
 *
 *   relay       this project's Worker on `wrangler dev` (Miniflare/workerd),
 *               `ws://127.0.0.1:<port>/v1/docs/<docId>`, or an already running
 *               relay given with `--relay-url`
 *   reference   `@y/websocket-server` 0.1.1's own `src/server.js`, in memory,
 *               `ws://127.0.0.1:<port>/<docId>`
 *   hocuspocus  `@hocuspocus/server` without extensions (hocuspocus-server.ts),
 *               `ws://127.0.0.1:<port>/`, the document named inside each message
 *   partyserver, partyserver-hib
 *               y-partyserver's `YServer` on `wrangler dev` like the relay, plain
 *               or hibernatable sockets (partyserver-target.ts),
 *               `ws://127.0.0.1:<port>/parties/<y-doc|y-doc-hib>/<docId>`
 *
 * The relay stays first: it is the default and the first row of each rate.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { snapshotArgs } from '../../scripts/test-edge.ts'
import { BENCH_WRANGLER_ENV } from '../lib/wrangler-env.ts'
import {
  freePort,
  groupCpuMs,
  NODE_BIN,
  REPO_ROOT,
  type ServerChild,
  spawnServer,
  waitForHttp,
} from './child-processes.ts'
import { DocClient } from './doc-client.ts'
import { launchPartyServer } from './partyserver-target.ts'
import { type Dialect, framing } from './wire-dialects.ts'

export const SERVER_NAMES = ['relay', 'reference', 'hocuspocus', 'partyserver', 'partyserver-hib'] as const
export type ServerName = (typeof SERVER_NAMES)[number]

export const SERVER_LABELS: Record<ServerName, string> = {
  relay: 'VIVIM relay (wrangler dev)',
  reference: '@y/websocket-server 0.1.1',
  hocuspocus: '@hocuspocus/server 3.4',
  partyserver: 'y-partyserver 2.2 (wrangler dev)',
  'partyserver-hib': 'y-partyserver 2.2, hibernatable (wrangler dev)',
}

export interface RunningServer {
  readonly name: ServerName
  readonly dialect: Dialect
  urlFor(docId: string): string
  /** CPU ms used so far by the server's process group; null when it is not our child. */
  cpuMs(): number | null
  /** Why the server is gone, if it is. */
  died(): string | null
  logTail(): string
  stop(): Promise<void>
}

export type StartResult = { ok: true; server: RunningServer } | { ok: false; reason: string }

const RELAY_READY_MS = 90_000
const NODE_READY_MS = 20_000
const PROBE_MS = 10_000

function fromChild(
  name: ServerName,
  dialect: Dialect,
  child: ServerChild,
  urlFor: (d: string) => string,
  cleanup = () => {},
) {
  return {
    name,
    dialect,
    urlFor,
    cpuMs: () => groupCpuMs(child.pid),
    died: () => (child.exited() ? `${child.name} ${child.exitDescription()}` : null),
    logTail: () => child.logTail(),
    stop: async () => {
      await child.stop()
      cleanup()
    },
  } satisfies RunningServer
}

async function launch(name: ServerName, relayUrl: string | null): Promise<RunningServer> {
  if (name === 'relay' && relayUrl !== null) {
    const base = relayUrl.replace(/\/+$/, '').replace(/\/v1\/docs$/, '')
    return {
      name,
      dialect: 'yjs',
      urlFor: (docId) => `${base}/v1/docs/${docId}`,
      cpuMs: () => null,
      died: () => null,
      logTail: () => '',
      stop: async () => {},
    }
  }
  const port = await freePort()
  const origin = `http://127.0.0.1:${port}`
  if (name === 'relay') {
    const persist = mkdtempSync(join(tmpdir(), 'vivim-bench-relay-'))
    const wrangler = resolve(REPO_ROOT, 'node_modules', '.bin', 'wrangler')
    // A bundle built now, not the sources: wrangler dev reloads (and drops every socket) on any edit.
    const snapshot = snapshotArgs(join(persist, 'snapshot'))
    const args = ['dev', ...snapshot, '--port', `${port}`, '--ip', '127.0.0.1', '--var', 'VIVIM_ENV:development']
    const child = spawnServer('wrangler dev', wrangler, [...args, '--persist-to', persist], BENCH_WRANGLER_ENV)
    const cleanup = () => rmSync(persist, { recursive: true, force: true })
    const server = fromChild(name, 'yjs', child, (d) => `ws://127.0.0.1:${port}/v1/docs/${d}`, cleanup)
    await waitForHttp(`${origin}/healthz`, RELAY_READY_MS, child).catch(async (error: unknown) => {
      await server.stop()
      throw error
    })
    return server
  }
  if (name === 'partyserver' || name === 'partyserver-hib') {
    const party = await launchPartyServer(name === 'partyserver' ? 'plain' : 'hibernatable')
    return fromChild(name, 'yjs', party.child, party.urlFor, party.cleanup)
  }
  const child =
    name === 'reference'
      ? spawnServer(name, NODE_BIN, ['node_modules/@y/websocket-server/src/server.js'], {
          HOST: '127.0.0.1',
          PORT: `${port}`,
        })
      : spawnServer(name, NODE_BIN, ['bench/docs/hocuspocus-server.ts', `${port}`])
  const server =
    name === 'reference'
      ? fromChild(name, 'yjs', child, (d) => `ws://127.0.0.1:${port}/${d}`)
      : fromChild(name, 'hocuspocus', child, () => `ws://127.0.0.1:${port}/`)
  await waitForHttp(`${origin}/`, NODE_READY_MS, child).catch(async (error: unknown) => {
    await server.stop()
    throw error
  })
  return server
}

/**
 * Starts `name` and checks that a client can sync a document on it. A server
 * that does not start or does not sync is skipped with the reason, never fatal.
 */
export async function startServer(name: ServerName, relayUrl: string | null): Promise<StartResult> {
  let server: RunningServer
  try {
    server = await launch(name, relayUrl)
  } catch (error) {
    return { ok: false, reason: `${name}: did not start: ${(error as Error).message}` }
  }
  const probeDoc = `bench-probe-${process.pid}-${Date.now()}`
  try {
    const client = await DocClient.connect(server.urlFor(probeDoc), framing(server.dialect, probeDoc), PROBE_MS)
    await client.close()
  } catch (error) {
    await server.stop()
    const where = name === 'relay' ? `${server.urlFor('<docId>')} does not sync yet` : 'a client cannot sync'
    return { ok: false, reason: `${name}: ${where} (${(error as Error).message})` }
  }
  return { ok: true, server }
}
