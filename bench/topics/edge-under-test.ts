/**
 * The servers the benchmark measures: the edge under `wrangler dev` on a
 * free port with its state in a fresh temporary directory (a run never reads
 * or leaves `.wrangler/state`), in its own process group so stopping it
 * stops the workerd it starts too, or an already running edge given with
 * `--url`; and its two anchors, which speak the same topic protocol with
 * nothing else: the naive broadcast Durable Object (`naive-worker/`, started
 * exactly as the edge, from its own `wrangler.toml`) and a Node `ws`
 * broadcast server (`ws-broadcast-server.ts`, a child process).
 *
 * wrangler dev runs two workerd processes: an entry one that serves the port
 * and proxies every request and frame, and the runtime that runs the Worker
 * and its Durable Objects (the topic rooms). Their CPU time is read from
 * /proc apart, and the whole group's (wrangler's own Node process too).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { snapshotArgs } from '../../scripts/test-edge.ts'
import {
  CLOCK_TICKS_PER_SECOND,
  freePort,
  groupCpuMs,
  NODE_BIN,
  REPO_ROOT,
  spawnServer,
  waitForHttp,
} from '../docs/child-processes.ts'
import { BENCH_WRANGLER_ENV } from '../lib/wrangler-env.ts'

const READY_MS = 90_000

/** CPU ms used so far; null when unknown (an edge given with `--url`). */
export interface EdgeCpu {
  /** The workerd that runs the Worker and the Durable Objects. */
  runtime: number | null
  /** The workerd that serves the port and proxies to the runtime. */
  entry: number | null
  /** wrangler's whole process group: both workerd, wrangler's Node process, esbuild. */
  group: number | null
}

/** Which server a row measures. */
export type TargetKind = 'edge' | 'naive' | 'ws'

/** The name a target has in the report. */
export const TARGET_LABELS: Readonly<Record<TargetKind, string>> = {
  edge: 'VIVIM TopicRoom',
  naive: 'naive broadcast DO',
  ws: 'Node ws broadcast',
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

interface Workerd {
  pid: number
  /** Whether it is the entry process (it listens on the edge's port). */
  entry: boolean
  cpuMs: number
}

/** The workerd processes of process group `pgid`, from /proc. */
function workerdProcesses(pgid: number, port: number): Workerd[] {
  const found: Workerd[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    let stat: string
    let cmdline: string
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8')
      if (!stat.includes('(workerd)')) continue
      cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8')
    } catch {
      continue
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // fields[0] is field 3 (state): pgrp is field 5, utime 14, stime 15.
    if (Number(fields[2]) !== pgid) continue
    const ticks = Number(fields[11]) + Number(fields[12])
    found.push({
      pid: Number(name),
      entry: cmdline.includes(`entry=127.0.0.1:${port}\0`),
      cpuMs: (ticks * 1000) / CLOCK_TICKS_PER_SECOND,
    })
  }
  return found
}

function sumCpu(processes: readonly Workerd[]): number | null {
  return processes.length === 0 ? null : processes.reduce((sum, p) => sum + p.cpuMs, 0)
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

/**
 * Starts `wrangler dev` (or attaches to `url`) and resolves once `/healthz` answers 200. It serves
 * a deploy bundle built once (`snapshotArgs`), not the sources: wrangler dev reloads on every
 * source edit, which would cut a run's sockets.
 */
export async function startEdge(url: string | null): Promise<Edge> {
  if (url !== null) return attach(url)
  const snapshot = mkdtempSync(join(tmpdir(), 'vivim-bench-topics-bundle-'))
  process.once('exit', () => rmSync(snapshot, { recursive: true, force: true }))
  return startWrangler('edge', [...snapshotArgs(snapshot), '--var', 'VIVIM_ENV:development'])
}

/** Starts the naive broadcast Worker under `wrangler dev`, with the edge's flags and its own config. */
export function startNaive(): Promise<Edge> {
  return startWrangler('naive', ['--config', join(REPO_ROOT, 'bench', 'topics', 'naive-worker', 'wrangler.toml')])
}

/** Starts the Node `ws` broadcast server as a child process. */
export async function startWsServer(): Promise<Edge> {
  const port = await freePort()
  const script = join(REPO_ROOT, 'bench', 'topics', 'ws-broadcast-server.ts')
  const child = spawnServer('ws broadcast server', NODE_BIN, [script, '--port', `${port}`])
  const server: Edge = {
    kind: 'ws',
    wsOrigin: `ws://127.0.0.1:${port}`,
    cpuMs: () => {
      const cpu = groupCpuMs(child.pid)
      return { runtime: cpu, entry: null, group: cpu }
    },
    generation: () => '',
    died: () => (child.exited() ? `the ws server ${child.exitDescription()}` : null),
    logTail: () => child.logTail(),
    stop: () => child.stop(),
  }
  return whenReady(server, port, child)
}

async function startWrangler(kind: TargetKind, extraArgs: readonly string[]): Promise<Edge> {
  const port = await freePort()
  const persist = mkdtempSync(join(tmpdir(), 'vivim-bench-topics-'))
  const removePersist = () => rmSync(persist, { recursive: true, force: true })
  process.once('exit', removePersist)
  const wrangler = resolve(REPO_ROOT, 'node_modules', '.bin', 'wrangler')
  const args = ['dev', '--port', `${port}`, '--ip', '127.0.0.1', ...extraArgs]
  const child = spawnServer('wrangler dev', wrangler, [...args, '--persist-to', persist], BENCH_WRANGLER_ENV)
  const edge: Edge = {
    kind,
    wsOrigin: `ws://127.0.0.1:${port}`,
    cpuMs: () => {
      const workerd = workerdProcesses(child.pid, port)
      return {
        runtime: sumCpu(workerd.filter((p) => !p.entry)),
        entry: sumCpu(workerd.filter((p) => p.entry)),
        group: groupCpuMs(child.pid),
      }
    },
    generation: () =>
      workerdProcesses(child.pid, port)
        .map((p) => p.pid)
        .sort((a, b) => a - b)
        .join(','),
    died: () => (child.exited() ? `wrangler dev ${child.exitDescription()}` : null),
    logTail: () => child.logTail(),
    stop: async () => {
      await child.stop()
      removePersist()
    },
  }
  return whenReady(edge, port, child)
}

/** Resolves with `server` once its `/healthz` answers 200; stops it if it never does. */
async function whenReady(server: Edge, port: number, child: Parameters<typeof waitForHttp>[2]): Promise<Edge> {
  try {
    await waitForHttp(`http://127.0.0.1:${port}/healthz`, READY_MS, child)
    return server
  } catch (error) {
    await server.stop()
    throw error
  }
}
