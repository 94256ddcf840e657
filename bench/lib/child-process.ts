/**
 * Server child processes: each runs in its own process group so it can be
 * stopped with everything it spawned (wrangler starts workerd), its CPU time
 * can be read apart from the load generator's (`process-cpu.ts`), and its
 * crash cannot take the runner down. Every child is registered so the runner
 * stops them all on exit, on error and on SIGINT/SIGTERM (`guardRun`).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { resolve } from 'node:path'

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..')
/** The repository's Node (22), which runs the `.ts` entry points of child servers. */
export const NODE_BIN = resolve(REPO_ROOT, 'node_modules', '.bin', 'node')
/** `node_modules/.bin` first on PATH, so `#!/usr/bin/env node` scripts (wrangler) run on the repo's Node 22. */
export const BIN_PATH = `${resolve(REPO_ROOT, 'node_modules', '.bin')}:${process.env.PATH ?? ''}`

const LOG_TAIL_CHARS = 16_000
const STOP_GRACE_MS = 3_000

/** A server started by `spawnServer`. */
export interface ServerChild {
  readonly name: string
  readonly pid: number
  /** The last output of the child (stdout and stderr), for error reports. */
  logTail(): string
  exited(): boolean
  exitDescription(): string | null
  /** SIGTERM to the group, SIGKILL after a grace period, then a sweep of whatever of the group is left. */
  stop(): Promise<void>
}

const live = new Set<ChildProcess>()

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return
  try {
    process.kill(-child.pid, signal)
  } catch {}
}

/** Kills every registered child group at once (SIGKILL); safe to call from `process.on('exit')`. */
export function killAllChildrenNow(): void {
  for (const child of live) killGroup(child, 'SIGKILL')
  live.clear()
}

/** Starts `command` in its own process group, from the repository root, with `env` over this process's. */
export function spawnServer(
  name: string,
  command: string,
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): ServerChild {
  const child = spawn(command, args, {
    cwd: REPO_ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PATH: BIN_PATH, ...env },
  })
  if (child.pid === undefined) throw new Error(`${name}: could not spawn ${command}`)
  const pid = child.pid
  live.add(child)
  let tail = ''
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-LOG_TAIL_CHARS)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  let exit: string | null = null
  const exitedPromise = new Promise<void>((done) => {
    child.once('exit', (code, signal) => {
      exit = signal === null ? `exit code ${code}` : `signal ${signal}`
      live.delete(child)
      done()
    })
  })
  child.once('error', (error) => {
    exit = `spawn error: ${error.message}`
  })
  return {
    name,
    pid,
    logTail: () => tail,
    exited: () => exit !== null,
    exitDescription: () => exit,
    async stop() {
      if (exit === null) {
        killGroup(child, 'SIGTERM')
        const timer = setTimeout(() => killGroup(child, 'SIGKILL'), STOP_GRACE_MS)
        await Promise.race([exitedPromise, sleep(STOP_GRACE_MS + 1_000)])
        clearTimeout(timer)
      }
      // Grandchildren (workerd) may outlive the group leader: sweep the group.
      killGroup(child, 'SIGKILL')
      live.delete(child)
    },
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms))
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export { freePort } from '../../scripts/test-edge.ts'

/** Polls `url` until it answers `status` (default 200); throws after `deadlineMs` or when the child exits. */
export async function waitForHttp(url: string, deadlineMs: number, child: ServerChild, status = 200): Promise<void> {
  const started = Date.now()
  let last = 'no answer'
  for (let attempt = 0; attempt < 1_000 && Date.now() - started < deadlineMs; attempt++) {
    if (child.exited()) throw new Error(`${child.name} exited (${child.exitDescription()}) before ${url} answered`)
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) })
      await res.arrayBuffer()
      if (res.status === status) return
      last = `status ${res.status}`
    } catch (error) {
      last = (error as Error).message
    }
    await sleep(250)
  }
  throw new Error(`${child.name}: ${url} did not answer ${status} within ${deadlineMs} ms (${last})`)
}
