/**
 * The servers the topic benchmark measures (`bench/lib/edge-process.ts`
 * starts them): the edge from a deploy bundle under `wrangler dev`, or an
 * already running edge given with `--url`; the same edge with
 * `TOPIC_READERS_PER_OBJECT` past any row's subscribers, so a topic's room
 * holds every reader itself (what the edge did before fan-out objects); and
 * its two anchors, which speak
 * the same topic protocol with nothing else: the naive broadcast Durable
 * Object (`naive-worker/`, under its own `wrangler dev` with the edge's
 * flags) and a Node `ws` broadcast server (`ws-broadcast-server.ts`, a child
 * process).
 *
 * wrangler dev runs two workerd processes: an entry one that serves the port
 * and proxies every request and frame, and the runtime that runs the Worker
 * and its Durable Objects (the topic rooms). Their CPU time is read from
 * /proc apart, and the whole group's (wrangler's own Node process too).
 */
import { join } from 'node:path'
import { freePort, NODE_BIN, REPO_ROOT } from '../lib/child-process.ts'
import { type Server, startServer, startSnapshotEdge, startWrangler, type WranglerServer } from '../lib/edge-process.ts'
import type { TargetKind } from './cli-options.ts'

/** CPU ms used so far; null when unknown (an edge given with `--url`). */
export interface EdgeCpu {
  /** The workerd that runs the Worker and the Durable Objects. */
  runtime: number | null
  /** The workerd that serves the port and proxies to the runtime. */
  entry: number | null
  /** wrangler's whole process group: both workerd, wrangler's Node process, esbuild. */
  group: number | null
}

export interface Edge {
  readonly kind: TargetKind
  /** `ws://host:port`. */
  readonly wsOrigin: string
  cpuMs(): EdgeCpu
  /** The workerd process ids; they change when wrangler dev restarts workerd (it does on every source edit). */
  generation(): string
  died(): string | null
  logTail(): string
  stop(): Promise<void>
}

const sumCpu = (processes: readonly { cpuMs: number }[]) =>
  processes.length === 0 ? null : processes.reduce((sum, p) => sum + p.cpuMs, 0)

/** A started server as a target: its CPU split into workerd runtime and entry when it is a `wrangler dev`. */
function target(kind: TargetKind, server: Server | WranglerServer): Edge {
  const wrangler = 'workerd' in server ? server : null
  return {
    kind,
    wsOrigin: server.origin.replace(/^http/, 'ws'),
    cpuMs: () => {
      const group = server.cpuMs()
      if (wrangler === null) return { runtime: group, entry: null, group }
      const workerd = wrangler.workerd()
      return { runtime: sumCpu(workerd.filter((p) => !p.entry)), entry: sumCpu(workerd.filter((p) => p.entry)), group }
    },
    generation: () =>
      wrangler === null
        ? ''
        : wrangler
            .workerd()
            .map((p) => p.pid)
            .sort((a, b) => a - b)
            .join(','),
    died: () => server.died(),
    logTail: () => server.logTail(),
    stop: () => server.stop(),
  }
}

async function attach(url: string): Promise<Edge> {
  const http = url.replace(/\/+$/, '').replace(/^ws/, 'http')
  const res = await fetch(`${http}/healthz`, { signal: AbortSignal.timeout(5_000) })
  await res.arrayBuffer()
  if (res.status !== 200) throw new Error(`${http}/healthz answered ${res.status}`)
  return {
    kind: 'edge',
    wsOrigin: http.replace(/^http/, 'ws'),
    cpuMs: () => ({ runtime: null, entry: null, group: null }),
    generation: () => '',
    died: () => null,
    logTail: () => '',
    stop: async () => {},
  }
}

/** Starts the edge from a deploy bundle (or attaches to `url`) and resolves once `/healthz` answers 200. */
export async function startEdge(url: string | null): Promise<Edge> {
  return url === null ? target('edge', await startSnapshotEdge()) : attach(url)
}

/** Readers per object for `edge-one`: more than any row has, so the room holds every reader. */
const ONE_OBJECT = '1000000'

/** Starts the edge as `startEdge` does, with every reader of a topic in its room (no fan-out objects). */
export async function startEdgeInOneObject(): Promise<Edge> {
  return target('edge-one', await startSnapshotEdge({ vars: { TOPIC_READERS_PER_OBJECT: ONE_OBJECT } }))
}

/** Starts the naive broadcast Worker under `wrangler dev`, with the edge's flags and its own config. */
export async function startNaive(): Promise<Edge> {
  const source = ['--config', join(REPO_ROOT, 'bench', 'topics', 'naive-worker', 'wrangler.toml')]
  return target('naive', await startWrangler({ source }))
}

/** Starts the Node `ws` broadcast server as a child process. */
export async function startWsServer(): Promise<Edge> {
  const port = await freePort()
  const args = [join(REPO_ROOT, 'bench', 'topics', 'ws-broadcast-server.ts'), '--port', `${port}`]
  return target('ws', await startServer({ name: 'ws broadcast server', command: NODE_BIN, args, port }))
}
