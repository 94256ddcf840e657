/**
 * The local edge the benchmark measures: `wrangler dev` on a free port with
 * its state in a fresh temporary directory (so a run never reads or leaves
 * `.wrangler/state`), in its own process group so that stopping it also
 * stops the workerd it starts. It serves a bundle built once at the start
 * (`wrangler deploy --dry-run`) under a copy of `wrangler.toml`, not the
 * sources and the config, because `wrangler dev` reloads the Worker whenever
 * either changes, and a reload in the middle of a long run would fail
 * requests and skew the figures. The copy drops `[assets]` (static files the
 * indexer does not serve). `stop` is
 * idempotent and is also called from the exit and signal handlers, so the
 * child never outlives the run.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..')
const BIN = resolve(REPO_ROOT, 'node_modules', '.bin')

/** `wrangler.toml` without its `[assets]` table, with `main` made absolute so the copy works from anywhere. */
function configSnapshot(): string {
  const lines = readFileSync(resolve(REPO_ROOT, 'wrangler.toml'), 'utf8').split('\n')
  const out: string[] = []
  let inAssets = false
  for (const line of lines) {
    if (/^\s*\[/.test(line)) inAssets = /^\s*\[assets\]\s*$/.test(line)
    if (inAssets) continue
    const main = /^main\s*=\s*"([^"]+)"/.exec(line)
    out.push(main ? `main = ${JSON.stringify(resolve(REPO_ROOT, main[1] as string))}` : line)
  }
  return out.join('\n')
}
const LOG_TAIL_CHARS = 8_000

export interface Edge {
  readonly url: string
  /** CPU time (user + system) the edge's processes have used so far, in ms; null off Linux. */
  cpuMs(): number | null
  logTail(): string
  stop(): void
}

const TICKS_PER_SECOND = 100

/** CPU time of every process in the process group `pgid`, from /proc. */
function groupCpuMs(pgid: number): number | null {
  let ticks = 0
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
        if (Number(fields[2]) === pgid) ticks += Number(fields[11]) + Number(fields[12])
      } catch {}
    }
  } catch {
    return null
  }
  return (ticks * 1000) / TICKS_PER_SECOND
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer()
    server.once('error', fail)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => (port > 0 ? done(port) : fail(new Error('no free port'))))
    })
  })
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms))

/** Starts the edge and resolves once `/healthz` answers, or throws after `deadlineMs`. */
export async function startEdge(deadlineMs = 90_000): Promise<Edge> {
  const port = await freePort()
  const state = mkdtempSync(join(tmpdir(), 'vivim-bench-index-'))
  const env = {
    ...process.env,
    PATH: `${BIN}:${process.env.PATH ?? ''}`,
    CLOUDFLARE_CF_FETCH_ENABLED: 'false',
    WRANGLER_SEND_METRICS: 'false',
  }
  const bundle = join(state, 'bundle')
  const CONFIG = join(state, 'wrangler.toml')
  writeFileSync(CONFIG, configSnapshot())
  execFileSync(join(BIN, 'wrangler'), ['deploy', '--dry-run', '--config', CONFIG, '--outdir', bundle], {
    cwd: REPO_ROOT,
    env,
    stdio: 'ignore',
  })
  const args = [
    'dev',
    join(bundle, 'index.js'),
    '--config',
    CONFIG,
    '--no-bundle',
    '--port',
    String(port),
    '--ip',
    '127.0.0.1',
  ]
  const child: ChildProcess = spawn(
    join(BIN, 'wrangler'),
    [...args, '--var', 'VIVIM_ENV:development', '--persist-to', join(state, 'state')],
    { cwd: REPO_ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env },
  )
  let tail = ''
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-LOG_TAIL_CHARS)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  let stopped = false
  const stop = () => {
    if (stopped) return
    stopped = true
    if (child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL')
      } catch {}
    }
    rmSync(state, { recursive: true, force: true })
  }
  process.once('exit', stop)
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      stop()
      process.exit(130)
    })
  }
  const url = `http://127.0.0.1:${port}`
  const started = Date.now()
  while (Date.now() - started < deadlineMs) {
    if (child.exitCode !== null) break
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) })
      if (res.ok) return { url, cpuMs: () => (child.pid ? groupCpuMs(child.pid) : null), logTail: () => tail, stop }
    } catch {}
    await sleep(250)
  }
  stop()
  throw new Error(`the edge did not answer /healthz within ${deadlineMs} ms:\n${tail}`)
}
