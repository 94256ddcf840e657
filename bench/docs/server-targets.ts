/**
 * The servers under test, each started as its own child process on its
 * own port (`bench/lib/edge-process.ts`) and checked with a real sync before
 * it is used:
 *
 *   relay       this project's Worker on `wrangler dev` (Miniflare/workerd),
 *               from a deploy bundle, `ws://127.0.0.1:<port>/v1/docs/<docId>`,
 *               or an already running relay given with `--relay-url`
 *   reference   `@y/websocket-server` 0.1.1's own `src/server.js`, in memory,
 *               `ws://127.0.0.1:<port>/<docId>`
 *   hocuspocus  `@hocuspocus/server` without extensions (hocuspocus-server.ts),
 *               `ws://127.0.0.1:<port>/`, the document named inside each message
 *   partyserver, partyserver-hib
 *               y-partyserver's `YServer` (Cloudflare's own Yjs Durable Object,
 *               `partyserver-worker/`) bundled once and served by `wrangler dev`
 *               with the relay's flags, plain or hibernatable sockets,
 *               `ws://127.0.0.1:<port>/parties/<y-doc|y-doc-hib>/<docId>`
 *
 * The relay stays first: it is the default and the first row of each rate.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, NODE_BIN } from '../lib/child-process.ts'
import {
  bundleWorker,
  type Server,
  startServer as startChild,
  startSnapshotEdge,
  startWrangler,
} from '../lib/edge-process.ts'
import { progress } from '../lib/run-environment.ts'
import { DocClient } from './doc-client.ts'
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

const NODE_READY_MS = 20_000
const PROBE_MS = 10_000
const PARTYSERVER_DIR = join(import.meta.dirname, 'partyserver-worker')
/** routePartykitRequest's namespaces: the bindings' names kebab-cased (YDoc, YDocHib). */
const PARTY = { partyserver: 'y-doc', 'partyserver-hib': 'y-doc-hib' } as const

function running(name: ServerName, dialect: Dialect, server: Server, urlFor: (docId: string) => string) {
  return { ...server, name, dialect, urlFor } satisfies RunningServer
}

/** y-partyserver's Worker, bundled now (wrangler dev would reload it, dropping every socket, on an edit). */
async function startPartyServer(name: 'partyserver' | 'partyserver-hib'): Promise<RunningServer> {
  const dir = mkdtempSync(join(tmpdir(), 'vivim-bench-partyserver-'))
  const cleanup = () => rmSync(dir, { recursive: true, force: true })
  let source: string[]
  try {
    source = bundleWorker(PARTYSERVER_DIR, dir)
  } catch (error) {
    cleanup()
    throw error
  }
  const mode = name === 'partyserver' ? 'plain' : 'hibernatable'
  // Its own inspector port, so that another wrangler dev on this machine cannot keep it from starting.
  const server = await startWrangler({
    name: `wrangler dev (y-partyserver, ${mode})`,
    source,
    inspectorPort: 'free',
    readyPath: '/',
    cleanup,
  })
  // Document ids go in the path as they are (the benchmark's ids are URL-safe).
  return running(name, 'yjs', server, (d) => `ws://127.0.0.1:${server.port}/parties/${PARTY[name]}/${d}`)
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
  if (name === 'relay') {
    const edge = await startSnapshotEdge()
    return running(name, 'yjs', edge, (d) => `ws://127.0.0.1:${edge.port}/v1/docs/${d}`)
  }
  if (name === 'partyserver' || name === 'partyserver-hib') return startPartyServer(name)
  const port = await freePort()
  const node = { command: NODE_BIN, port, readyPath: '/', readyMs: NODE_READY_MS }
  if (name === 'reference') {
    const args = ['node_modules/@y/websocket-server/src/server.js']
    const server = await startChild({ ...node, name, args, env: { HOST: '127.0.0.1', PORT: `${port}` } })
    return running(name, 'yjs', server, (d) => `ws://127.0.0.1:${port}/${d}`)
  }
  const server = await startChild({ ...node, name, args: ['bench/docs/hocuspocus-server.ts', `${port}`] })
  return running(name, 'hocuspocus', server, () => `ws://127.0.0.1:${port}/`)
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

/**
 * Starts each of `names` in turn, in `SERVER_NAMES`' order, runs `each` on it and stops it. A
 * server that does not start or sync is skipped; the reasons are returned.
 */
export async function eachServer(
  names: readonly ServerName[],
  relayUrl: string | null,
  each: (server: RunningServer) => Promise<void>,
): Promise<string[]> {
  const skipped: string[] = []
  for (const name of SERVER_NAMES.filter((n) => names.includes(n))) {
    progress(`starting ${SERVER_LABELS[name]}`)
    const started = await startServer(name, relayUrl)
    if (!started.ok) {
      skipped.push(started.reason)
      progress(`skipped: ${started.reason}`)
      continue
    }
    try {
      await each(started.server)
    } finally {
      await started.server.stop()
    }
  }
  return skipped
}
