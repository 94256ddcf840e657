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
import { freePort, groupCpuByCommand, REPO_ROOT, spawnServer, waitForHttp } from './child-processes.ts'
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
const WRANGLER_JS = join(REPO_ROOT, 'node_modules', 'wrangler', 'bin', 'wrangler.js')
const fromWrangler = createRequire(join(REPO_ROOT, 'node_modules', 'wrangler', 'package.json'))
/** The workerd binary wrangler runs (the `workerd` package's main export is its path). */
export const WORKERD_BIN: string = fromWrangler('workerd').default
/** The Miniflare wrangler runs, for `dispatch-miniflare.ts`. */
export const MINIFLARE_ENTRY = fromWrangler.resolve('miniflare')
const QUIET = { CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_SEND_METRICS: 'false' }
const READY_MS = 90_000
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

/** Starts `name` on free ports in a fresh state directory and waits until the Worker answers. */
export async function startSetup(name: SetupName): Promise<RunningSetup> {
  const dir = mkdtempSync(join(tmpdir(), `vivim-bench-dispatch-${name}-`))
  const port = await freePort()
  const origin = `http://127.0.0.1:${port}`
  const inspectorPort = await freePort()
  let child: ReturnType<typeof spawnServer>
  if (name === 'wrangler-dev' || name === 'wrangler-dev-untraced') {
    const config = join(WORKER_DIR, 'wrangler.toml')
    const args = [WRANGLER_JS, 'dev', '--config', config, '--port', `${port}`, '--ip', '127.0.0.1']
    args.push('--persist-to', dir, '--inspector-port', `${inspectorPort}`)
    const env = name === 'wrangler-dev' ? QUIET : { ...QUIET, X_LOCAL_OBSERVABILITY: 'false' }
    child = spawnServer(name, process.execPath, args, env)
  } else if (name === 'miniflare' || name === 'miniflare-traced') {
    const host = join(REPO_ROOT, 'bench', 'docs', 'dispatch-miniflare.ts')
    const traced = name === 'miniflare-traced' ? ['traced'] : []
    child = spawnServer(name, process.execPath, [host, `${port}`, dir, ...traced])
  } else {
    mkdirSync(join(dir, 'do'))
    // `embed` reads relative to the config (an absolute path would be looked up in the import path).
    copyFileSync(join(WORKER_DIR, 'worker.js'), join(dir, 'worker.js'))
    writeFileSync(join(dir, 'config.capnp'), capnpConfig(dir, port))
    const args = ['serve', join(dir, 'config.capnp')]
    if (name !== 'workerd') args.push(`--inspector-addr=127.0.0.1:${inspectorPort}`)
    child = spawnServer(name, WORKERD_BIN, args)
  }
  let session: InspectorSession | null = null
  const stop = async () => {
    session?.close()
    await child.stop()
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    await waitForHttp(`${origin}/count`, READY_MS, child)
    if (name === 'workerd-session') {
      session = await InspectorSession.connect(inspectorPort)
      await session.call('Runtime.enable')
    }
  } catch (error) {
    const said = child.logTail().slice(-1_000)
    await stop()
    throw new Error(`${(error as Error).message}${said === '' ? '' : `\n${said}`}`)
  }
  return { name, origin, cpuByCommand: () => groupCpuByCommand(child.pid) ?? new Map(), stop }
}
