/**
 * The local edge the benchmark measures: `wrangler dev` on a free port with
 * its state in a fresh temporary directory (so a run never reads or leaves
 * `.wrangler/state`), in its own process group so that stopping it also
 * stops the workerd it starts. It serves a bundle built once at the start
 * (`wrangler deploy --dry-run`) under a copy of `wrangler.toml`, not the
 * sources and the config, because `wrangler dev` reloads the Worker whenever
 * either changes, and a reload in the middle of a long run would fail
 * requests and skew the figures (`snapshotArgs`). `stop` is
 * idempotent and is also called from the exit and signal handlers, so the
 * child never outlives the run.
 *
 * `startKvReader` starts the read anchor (`kv-worker/`) the same way (a
 * bundle built once, the same wrangler, `wrangler dev --no-bundle`), on the
 * edge's state directory, so it reads the KV keys the edge wrote.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { freePort, snapshotArgs } from '../../scripts/test-edge.ts'

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..')
const BIN = resolve(REPO_ROOT, 'node_modules', '.bin')

const LOG_TAIL_CHARS = 8_000

export interface Edge {
  readonly url: string
  /** The `--persist-to` directory: the edge's Durable Objects, KV and cache. */
  readonly stateDir: string
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

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms))

const ENV = {
  ...process.env,
  PATH: `${BIN}:${process.env.PATH ?? ''}`,
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  WRANGLER_SEND_METRICS: 'false',
}

/** Starts the edge and resolves once `/healthz` answers, or throws after `deadlineMs`. */
export async function startEdge(deadlineMs = 90_000): Promise<Edge> {
  const dir = mkdtempSync(join(tmpdir(), 'vivim-bench-index-'))
  // A bundle built now, not the sources: wrangler dev reloads (and drops every socket) on any edit.
  const source = snapshotArgs(join(dir, 'snapshot'))
  return launch([...source, '--var', 'VIVIM_ENV:development'], join(dir, 'state'), dir, deadlineMs)
}

/**
 * Starts the bare KV reader (`kv-worker/`) on the edge's state directory;
 * stopping it leaves that directory to the edge.
 */
export async function startKvReader(edge: Edge, deadlineMs = 90_000): Promise<Edge> {
  const dir = mkdtempSync(join(tmpdir(), 'vivim-bench-kv-read-'))
  const config = join(import.meta.dirname, 'kv-worker', 'wrangler.toml')
  const bundle = join(dir, 'bundle')
  execFileSync(join(BIN, 'wrangler'), ['deploy', '--dry-run', '--config', config, '--outdir', bundle], {
    cwd: REPO_ROOT,
    env: ENV,
    stdio: 'ignore',
  })
  const source = [join(bundle, 'worker.js'), '--no-bundle', '--config', config]
  return launch(source, edge.stateDir, dir, deadlineMs)
}

/** `wrangler dev` of `source` with its state in `stateDir`; `dir` (its own files) is removed when it stops. */
async function launch(source: string[], stateDir: string, dir: string, deadlineMs: number): Promise<Edge> {
  const port = await freePort()
  const args = ['dev', ...source, '--port', String(port), '--ip', '127.0.0.1', '--persist-to', stateDir]
  const child: ChildProcess = spawn(join(BIN, 'wrangler'), args, {
    cwd: REPO_ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: ENV,
  })
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
    rmSync(dir, { recursive: true, force: true })
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
      if (res.ok)
        return { url, stateDir, cpuMs: () => (child.pid ? groupCpuMs(child.pid) : null), logTail: () => tail, stop }
    } catch {}
    await sleep(250)
  }
  stop()
  throw new Error(`the edge did not answer /healthz within ${deadlineMs} ms:\n${tail}`)
}
