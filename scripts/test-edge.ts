/**
 * Starts a real edge (`wrangler dev`, on Miniflare and workerd) for tests and
 * benchmarks that run on Node: a free loopback port, its own state
 * directory, extra `--var`s, and a stop that ends the whole process group.
 * Several edges may run at once (federation tests start two).
 *
 * @example
 * ```ts
 * const edge = await startEdge({ vars: { VIVIM_ENV: 'development' } })
 * await fetch(`${edge.url}/healthz`)
 * edge.stop()
 * ```
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

export const ROOT = resolve(import.meta.dirname, '..')

export interface EdgeInit {
  /** `--var NAME:value` pairs; `VIVIM_ENV` defaults to `development`. */
  vars?: Record<string, string>
  /** The state directory (`--persist-to`); a new temporary one by default. Reuse it to restart an edge. */
  persistTo?: string
  /** The port; a free one by default. */
  port?: number
  /**
   * Serve a bundle built once at start (true, the default) rather than the
   * sources, which wrangler dev reloads on every edit, dropping every socket.
   */
  snapshot?: boolean
}

export interface RunningEdge {
  readonly url: string
  readonly port: number
  readonly persistTo: string
  /** The last 8,000 characters the edge printed. */
  log(): string
  stop(): Promise<void>
  /** Kills the edge and its runtime at once (SIGKILL to the process group): a crash, not a shutdown. */
  kill(): Promise<void>
}

export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer()
    server.once('error', fail)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address ? done(address.port) : fail(new Error('no port'))))
    })
  })
}

async function waitForHealth(url: string, child: ChildProcess, output: () => string): Promise<void> {
  for (let attempt = 0; attempt < 480; attempt++) {
    if (child.exitCode !== null) throw new Error(`the edge exited:\n${output()}`)
    try {
      if ((await fetch(`${url}/healthz`)).ok) return
    } catch {}
    await new Promise((r) => setTimeout(r, 250))
  }
  throw new Error(`the edge did not answer at ${url}:\n${output()}`)
}

const WRANGLER = join(ROOT, 'node_modules', 'wrangler', 'bin', 'wrangler.js')
const QUIET = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_SEND_METRICS: 'false' }

/** wrangler.toml with its paths made absolute, so a copy elsewhere means the same Worker. */
function configCopy(): string {
  return readFileSync(join(ROOT, 'wrangler.toml'), 'utf8')
    .split('\n')
    .map((line) => {
      const path = /^(main|directory)\s*=\s*"([^"]+)"/.exec(line)
      return path ? `${path[1]} = ${JSON.stringify(resolve(ROOT, path[2] as string))}` : line
    })
    .join('\n')
}

/** Builds the deploy bundle and a copy of the config into `dir`; returns wrangler dev's arguments for them. */
export function snapshotArgs(dir: string): string[] {
  mkdirSync(dir, { recursive: true })
  const config = join(dir, 'wrangler.toml')
  writeFileSync(config, configCopy())
  const bundle = join(dir, 'bundle')
  execFileSync(process.execPath, [WRANGLER, 'deploy', '--dry-run', '--config', config, '--outdir', bundle], {
    cwd: ROOT,
    env: QUIET,
    stdio: 'ignore',
  })
  return [join(bundle, 'index.js'), '--no-bundle', '--config', config]
}

const ATTEMPTS = 4

/**
 * Starts the edge, again on other ports when one it was given was taken in the meantime: a free
 * port found here can be bound by another test process before wrangler binds it.
 */
export async function startEdge(init: EdgeInit = {}): Promise<RunningEdge> {
  const persistTo = init.persistTo ?? mkdtempSync(join(tmpdir(), 'vivim-edge-'))
  const source = init.snapshot === false ? [] : snapshotArgs(mkdtempSync(join(tmpdir(), 'vivim-edge-bundle-')))
  for (let attempt = 1; ; attempt++) {
    try {
      return await launch(init, persistTo, source)
    } catch (error) {
      if (attempt >= ATTEMPTS || !/Address already in use/.test((error as Error).message)) throw error
      await new Promise((r) => setTimeout(r, 500 * attempt))
    }
  }
}

async function launch(init: EdgeInit, persistTo: string, source: string[]): Promise<RunningEdge> {
  const port = init.port ?? (await freePort())
  const vars = { VIVIM_ENV: 'development', ...init.vars }
  const args = ['dev', ...source, '--port', String(port), '--ip', '127.0.0.1', '--persist-to', persistTo]
  for (const [name, value] of Object.entries(vars)) args.push('--var', `${name}:${value}`)
  // Each edge needs its own inspector port, or the second of two fails to start.
  args.push('--inspector-port', String(await freePort()))
  // This process's own Node (22), whatever `node` the PATH would find first.
  const child = spawn(process.execPath, [WRANGLER, ...args], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: QUIET,
  })
  let output = ''
  child.stdout?.on('data', (d: Buffer) => (output = (output + d).slice(-8000)))
  child.stderr?.on('data', (d: Buffer) => (output = (output + d).slice(-8000)))
  const exited = new Promise<void>((done) => child.once('exit', () => done()))
  const url = `http://127.0.0.1:${port}`
  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return
    try {
      process.kill(-child.pid, signal)
    } catch {}
    await exited
  }
  const stop = () => end('SIGTERM')
  try {
    await waitForHealth(url, child, () => output)
  } catch (error) {
    await stop()
    throw error
  }
  return { url, port, persistTo, log: () => output, stop, kill: () => end('SIGKILL') }
}
