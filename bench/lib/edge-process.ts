/**
 * The servers benchmarks measure, started and stopped one way: a child
 * process group (`child-process.ts`) on a free loopback port, ready once a
 * path answers 200, stopped (and its files removed) if it never does.
 *
 * `startWrangler` runs `wrangler dev` with its state in a fresh temporary
 * directory (a run never reads or leaves `.wrangler/state`) or in one the
 * caller owns, optionally on a given inspector port. What it serves is a
 * bundle built once (`startSnapshotEdge` for this tree's edge, through
 * `snapshotArgs`; `bundleWorker` for any other Worker or tree), not the
 * sources: wrangler dev reloads the Worker whenever a source or its config
 * changes, and a reload in the middle of a run would cut its sockets.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join, resolve } from 'node:path'
import { snapshotArgs } from '../../scripts/test-edge.ts'
import { freePort, REPO_ROOT, spawnServer, waitForHttp } from './child-process.ts'
import { groupCpuByCommand, groupCpuMs, type Workerd, workerdProcesses } from './process-cpu.ts'
import { BENCH_WRANGLER_ENV } from './wrangler-env.ts'

const WRANGLER_BIN = join(REPO_ROOT, 'node_modules', '.bin', 'wrangler')
const WRANGLER_JS = join(REPO_ROOT, 'node_modules', 'wrangler', 'bin', 'wrangler.js')
const READY_MS = 90_000
/** How much of a server's output a failure to start quotes. */
const LOG_TAIL_ON_FAILURE = 1_000

/** How to start a server and know it is up. */
export interface ServerInit {
  /** Its name in messages. */
  name: string
  command: string
  args: readonly string[]
  env?: Readonly<Record<string, string>>
  /** The port it was told to listen on (127.0.0.1). */
  port: number
  /** Polled until it answers 200 (`/healthz` by default). */
  readyPath?: string
  readyMs?: number
  /** Removes the server's files once it stopped or failed to start. */
  cleanup?: () => void
}

/** A started server. */
export interface Server {
  readonly name: string
  readonly port: number
  /** `http://127.0.0.1:<port>`. */
  readonly origin: string
  readonly pid: number
  /** CPU ms its whole process group used so far; null off Linux. */
  cpuMs(): number | null
  cpuByCommand(): Map<string, number> | null
  /** Why it is gone, if it is. */
  died(): string | null
  logTail(): string
  stop(): Promise<void>
}

/** Spawns `init.command` and resolves once `readyPath` answers 200; stops it and throws if it never does. */
export async function startServer(init: ServerInit): Promise<Server> {
  const child = spawnServer(init.name, init.command, init.args, init.env)
  const origin = `http://127.0.0.1:${init.port}`
  const server: Server = {
    name: init.name,
    port: init.port,
    origin,
    pid: child.pid,
    cpuMs: () => groupCpuMs(child.pid),
    cpuByCommand: () => groupCpuByCommand(child.pid),
    died: () => (child.exited() ? `${child.name} ${child.exitDescription()}` : null),
    logTail: () => child.logTail(),
    stop: async () => {
      await child.stop()
      init.cleanup?.()
    },
  }
  try {
    await waitForHttp(`${origin}${init.readyPath ?? '/healthz'}`, init.readyMs ?? READY_MS, child)
  } catch (error) {
    const said = child.logTail().slice(-LOG_TAIL_ON_FAILURE)
    await server.stop()
    throw new Error(`${(error as Error).message}${said === '' ? '' : `\n${said}`}`)
  }
  return server
}

/** How to start `wrangler dev`. */
export interface WranglerInit {
  /** Its name in messages (`wrangler dev`). */
  name?: string
  /** What it serves: a bundle's arguments (`bundleWorker`, `snapshotArgs`) or `--config <wrangler.toml>`. */
  source: readonly string[]
  /** `--persist-to`: a directory the caller owns (left in place), or a fresh temporary one removed on stop. */
  persistTo?: string
  /** `--var NAME:value` pairs. */
  vars?: Readonly<Record<string, string>>
  /** `--inspector-port`: a given port, `'free'` for any free one (two dev servers cannot share the default), or none. */
  inspectorPort?: number | 'free'
  /** Over this process's environment; `BENCH_WRANGLER_ENV` (no local tracing) unless said otherwise. */
  env?: Readonly<Record<string, string>>
  readyPath?: string
  /** Removes the caller's files (a bundle) once the server stopped. */
  cleanup?: () => void
}

/** A running `wrangler dev`. */
export interface WranglerServer extends Server {
  /** The `--persist-to` directory: its Durable Objects, KV and cache. */
  readonly stateDir: string
  /** Its workerd processes, entry and runtime (ids change when wrangler restarts workerd). */
  workerd(): Workerd[]
}

/** Starts `wrangler dev` on a free port and resolves once it answers. */
export async function startWrangler(init: WranglerInit): Promise<WranglerServer> {
  const port = await freePort()
  const stateDir = init.persistTo ?? mkdtempSync(join(tmpdir(), 'vivim-bench-state-'))
  const args = ['dev', ...init.source, '--port', `${port}`, '--ip', '127.0.0.1', '--persist-to', stateDir]
  for (const [name, value] of Object.entries(init.vars ?? {})) args.push('--var', `${name}:${value}`)
  if (init.inspectorPort !== undefined) {
    args.push('--inspector-port', `${init.inspectorPort === 'free' ? await freePort() : init.inspectorPort}`)
  }
  const server = await startServer({
    name: init.name ?? 'wrangler dev',
    command: WRANGLER_BIN,
    args,
    env: init.env ?? BENCH_WRANGLER_ENV,
    port,
    readyPath: init.readyPath,
    cleanup: () => {
      if (init.persistTo === undefined) rmSync(stateDir, { recursive: true, force: true })
      init.cleanup?.()
    },
  })
  return { ...server, stateDir, workerd: () => workerdProcesses(server.pid, port) }
}

/**
 * This tree's edge (`wrangler.toml`) from a deploy bundle built now (`snapshotArgs`), with
 * `VIVIM_ENV=development` unless `init.vars` says otherwise; the bundle is removed on stop.
 */
export async function startSnapshotEdge(init: Omit<WranglerInit, 'source'> = {}): Promise<WranglerServer> {
  const dir = mkdtempSync(join(tmpdir(), 'vivim-bench-bundle-'))
  const remove = () => rmSync(dir, { recursive: true, force: true })
  let source: string[]
  try {
    source = snapshotArgs(dir)
  } catch (error) {
    remove()
    throw error
  }
  const vars = { VIVIM_ENV: 'development', ...init.vars }
  const cleanup = () => {
    init.cleanup?.()
    remove()
  }
  return startWrangler({ ...init, source, vars, cleanup })
}

/**
 * Builds the deploy bundle of the Worker in `root` (its `wrangler.toml`) into `out`, with a copy
 * of the config whose paths are made absolute; returns wrangler dev's arguments for them. As
 * `snapshotArgs` does for this tree's edge, for any tree (a git worktree) or bench Worker.
 */
export function bundleWorker(root: string, out: string): string[] {
  mkdirSync(out, { recursive: true })
  const config = join(out, 'wrangler.toml')
  let main = 'index.ts'
  const text = readFileSync(join(root, 'wrangler.toml'), 'utf8')
    .split('\n')
    .map((line) => {
      const path = /^(main|directory)\s*=\s*"([^"]+)"/.exec(line)
      if (path?.[1] === 'main') main = path[2] as string
      return path ? `${path[1]} = ${JSON.stringify(resolve(root, path[2] as string))}` : line
    })
    .join('\n')
  writeFileSync(config, text)
  const bundle = join(out, 'bundle')
  try {
    execFileSync(process.execPath, [WRANGLER_JS, 'deploy', '--dry-run', '--config', config, '--outdir', bundle], {
      cwd: root,
      env: { ...process.env, ...BENCH_WRANGLER_ENV },
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
    })
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string }
    throw new Error(`bundling ${root} failed: ${e.message}\n${(e.stdout ?? '') + (e.stderr ?? '')}`.slice(0, 4_000))
  }
  return [join(bundle, basename(main).replace(/\.[cm]?[jt]s$/, '.js')), '--no-bundle', '--config', config]
}

/** What a `wrangler dev` printed after its banner ("Ready on ..."), without its one line per request. */
export function outputAfterBanner(server: Pick<Server, 'logTail'>, chars = 2_000): string {
  const lines = server.logTail().split('\n')
  const ready = lines.findLastIndex((line) => line.includes('Ready on'))
  const said = lines.slice(ready + 1).filter((line) => line.trim() !== '' && !line.includes('[wrangler:info]'))
  return said.join('\n').slice(-chars)
}
