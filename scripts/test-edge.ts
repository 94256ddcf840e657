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
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
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
}

export interface RunningEdge {
  readonly url: string
  readonly port: number
  readonly persistTo: string
  /** The last 8,000 characters the edge printed. */
  log(): string
  stop(): Promise<void>
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

export async function startEdge(init: EdgeInit = {}): Promise<RunningEdge> {
  const port = init.port ?? (await freePort())
  const persistTo = init.persistTo ?? mkdtempSync(join(tmpdir(), 'vivim-edge-'))
  const vars = { VIVIM_ENV: 'development', ...init.vars }
  const args = ['dev', '--port', String(port), '--ip', '127.0.0.1', '--persist-to', persistTo]
  for (const [name, value] of Object.entries(vars)) args.push('--var', `${name}:${value}`)
  // Each edge needs its own inspector port, or the second of two fails to start.
  args.push('--inspector-port', String(await freePort()))
  // This process's own Node (22), whatever `node` the PATH would find first.
  const child = spawn(process.execPath, [join(ROOT, 'node_modules', 'wrangler', 'bin', 'wrangler.js'), ...args], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_SEND_METRICS: 'false' },
  })
  let output = ''
  child.stdout?.on('data', (d: Buffer) => (output = (output + d).slice(-8000)))
  child.stderr?.on('data', (d: Buffer) => (output = (output + d).slice(-8000)))
  const exited = new Promise<void>((done) => child.once('exit', () => done()))
  const url = `http://127.0.0.1:${port}`
  const stop = async () => {
    if (child.exitCode !== null || child.pid === undefined) return
    try {
      process.kill(-child.pid, 'SIGTERM')
    } catch {}
    await exited
  }
  try {
    await waitForHealth(url, child, () => output)
  } catch (error) {
    await stop()
    throw error
  }
  return { url, port, persistTo, log: () => output, stop }
}
