/**
 * The ways the dispatch benchmark (`dispatch.ts`) runs its counting Worker
 * (`dispatch-worker/`), each as its own process group so its CPU can be read
 * from /proc apart from the load generator's:
 *
 *   wrangler-dev      `wrangler dev`, as the relay runs: wrangler's Node, a
 *                     workerd holding its proxy and inspector-proxy Workers, and
 *                     a workerd running the Worker with `--inspector-addr`, to
 *                     which the inspector proxy keeps a session (`Runtime.enable`),
 *                     and with local observability on (wrangler's default: every
 *                     invocation streams its trace to a collector Worker that
 *                     stores spans in SQLite)
 *   wrangler-dev-untraced  the same with `X_LOCAL_OBSERVABILITY=false`
 *   miniflare         Miniflare's API in a Node process of its own
 *                     (`dispatch-miniflare.ts`): one workerd, Miniflare's entry
 *                     Worker in front, no inspector, no observability
 *   miniflare-traced  the same with `unsafeObservability: true`, as wrangler sets it
 *   workerd           `workerd serve` on a generated Cap'n Proto config: the
 *                     runtime alone, nothing in front, no inspector
 *   workerd-inspector the same with `--inspector-addr`, nobody attached
 *   workerd-session   the same with a session attached that sent `Runtime.enable`,
 *                     as wrangler dev's inspector proxy does
 *
 * Every setup uses the workerd and Miniflare that wrangler itself resolves,
 * so the runtime build is the same in all of them.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, REPO_ROOT } from '../lib/child-process.ts'
import { type Server, startServer, startWrangler } from '../lib/edge-process.ts'
import { BENCH_WRANGLER_ENV, WRANGLER_QUIET_ENV } from '../lib/wrangler-env.ts'
import { InspectorSession } from './inspector-session.ts'

export const SETUP_NAMES = [
  'wrangler-dev',
  'wrangler-dev-untraced',
  'miniflare',
  'miniflare-traced',
  'workerd',
  'workerd-inspector',
  'workerd-session',
] as const
export type SetupName = (typeof SETUP_NAMES)[number]

export const WORKER_DIR = join(REPO_ROOT, 'bench', 'docs', 'dispatch-worker')
const fromWrangler = createRequire(join(REPO_ROOT, 'node_modules', 'wrangler', 'package.json'))
/** The workerd binary wrangler runs (the `workerd` package's main export is its path). */
export const WORKERD_BIN: string = fromWrangler('workerd').default
/** The Miniflare wrangler runs, for `dispatch-miniflare.ts`. */
export const MINIFLARE_ENTRY = fromWrangler.resolve('miniflare')
export const COMPATIBILITY_DATE = '2026-11-01'

export interface RunningSetup {
  readonly name: SetupName
  readonly origin: string
  /** CPU ms so far of the setup's processes by command name (workerd, node). */
  cpuByCommand(): Map<string, number>
  stop(): Promise<void>
}

/** The Cap'n Proto config of `workerd serve`: the Worker, its Durable Object class on SQLite on disk, one socket. */
function capnpConfig(dir: string, port: number): string {
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .counter),
    (name = "do-disk", disk = (path = ${JSON.stringify(join(dir, 'do'))}, writable = true)),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const counter :Workerd.Worker = (
  modules = [ (name = "worker.js", esModule = embed "worker.js") ],
  compatibilityDate = "${COMPATIBILITY_DATE}",
  bindings = [ (name = "COUNTER", durableObjectNamespace = "Counter") ],
  durableObjectNamespaces = [ (className = "Counter", uniqueKey = "vivim-bench-dispatch-Counter", enableSql = true) ],
  durableObjectStorage = (localDisk = "do-disk"),
);
`
}

/** Starts the setup's processes on `port`, its state in `dir`. */
async function launch(name: SetupName, dir: string, port: number, inspectorPort: number): Promise<Server> {
  const readyPath = '/count'
  if (name === 'wrangler-dev' || name === 'wrangler-dev-untraced') {
    // Its state goes in the setup's directory, which `startSetup` removes.
    const env = name === 'wrangler-dev' ? WRANGLER_QUIET_ENV : BENCH_WRANGLER_ENV
    const source = ['--config', join(WORKER_DIR, 'wrangler.toml')]
    return startWrangler({ name, source, persistTo: dir, inspectorPort, env, readyPath })
  }
  if (name === 'miniflare' || name === 'miniflare-traced') {
    const host = join(REPO_ROOT, 'bench', 'docs', 'dispatch-miniflare.ts')
    const traced = name === 'miniflare-traced' ? ['traced'] : []
    return startServer({ name, command: process.execPath, args: [host, `${port}`, dir, ...traced], port, readyPath })
  }
  mkdirSync(join(dir, 'do'))
  // `embed` reads relative to the config (an absolute path would be looked up in the import path).
  copyFileSync(join(WORKER_DIR, 'worker.js'), join(dir, 'worker.js'))
  writeFileSync(join(dir, 'config.capnp'), capnpConfig(dir, port))
  const args = ['serve', join(dir, 'config.capnp')]
  if (name !== 'workerd') args.push(`--inspector-addr=127.0.0.1:${inspectorPort}`)
  return startServer({ name, command: WORKERD_BIN, args, port, readyPath })
}

/** Starts `name` on free ports in a fresh state directory and waits until the Worker answers. */
export async function startSetup(name: SetupName): Promise<RunningSetup> {
  const dir = mkdtempSync(join(tmpdir(), `vivim-bench-dispatch-${name}-`))
  const removeDir = () => rmSync(dir, { recursive: true, force: true })
  const port = await freePort()
  const inspectorPort = await freePort()
  let server: Server
  try {
    server = await launch(name, dir, port, inspectorPort)
  } catch (error) {
    removeDir()
    throw error
  }
  let session: InspectorSession | null = null
  const stop = async () => {
    session?.close()
    await server.stop()
    removeDir()
  }
  if (name === 'workerd-session') {
    try {
      session = await InspectorSession.connect(inspectorPort)
      await session.call('Runtime.enable')
    } catch (error) {
      await stop()
      throw error
    }
  }
  return { name, origin: server.origin, cpuByCommand: () => server.cpuByCommand() ?? new Map(), stop }
}
