/**
 * The two edges the rules benchmark compares: the current tree ("after")
 * and the commit before the authorship checks ("before"), each bundled once
 * from its own tree (`wrangler deploy --dry-run`, as `scripts/test-edge.ts`
 * does) and served by its own `wrangler dev --no-bundle` on its own ports
 * and state directory.
 *
 * The old tree is a git worktree (`git worktree add <dir> <commit>`, made
 * when absent). Its `node_modules` is a directory of symlinks to the main
 * tree's entries, except `@vivim/*`, which point into the worktree, so the
 * bundle holds the old `shared` and `client` with the same third-party code.
 */
import { execFileSync } from 'node:child_process'
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { BENCH_WRANGLER_ENV } from '../lib/wrangler-env.ts'
import { freePort, groupCpuMs, REPO_ROOT, spawnServer, waitForHttp } from './child-processes.ts'

export const BEFORE_COMMIT = 'ac76cfa'
export const BEFORE_TREE = '/tmp/relay-before'
export const AFTER_TREE = '/tmp/relay-after'

const READY_MS = 90_000
const WRANGLER_JS = join(REPO_ROOT, 'node_modules', 'wrangler', 'bin', 'wrangler.js')
const WRANGLER_BIN = join(REPO_ROOT, 'node_modules', '.bin', 'wrangler')
const QUIET = BENCH_WRANGLER_ENV
const WORKSPACES = ['shared', 'client', 'node-bridge']

export type Side = 'before' | 'after'

export interface Edge {
  readonly side: Side
  /** The commit its tree is at (for the after side, HEAD; the tree may hold uncommitted edits too). */
  readonly commit: string
  readonly origin: string
  /** The edge's DID, from `GET /v1/edge`: the audience of every invocation. */
  readonly did: string
  docUrl(docId: string, token: string): string
  cpuMs(): number | null
  died(): string | null
  logTail(): string
  stop(): Promise<void>
}

function git(args: string[], cwd = REPO_ROOT): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim()
}

/** Makes sure `dir` is a worktree at `commit` with its `node_modules` linked; returns the full commit id. */
export function prepareBeforeTree(commit = BEFORE_COMMIT, dir = BEFORE_TREE): string {
  const want = git(['rev-parse', '--verify', `${commit}^{commit}`])
  if (!existsSync(dir)) git(['worktree', 'add', '--detach', dir, want])
  const head = git(['rev-parse', 'HEAD'], dir)
  if (head !== want)
    throw new Error(`${dir} is at ${head.slice(0, 7)}, not ${commit}: remove it or pick another --before-tree`)
  linkModules(dir)
  return want
}

/**
 * A clean worktree of the main tree's HEAD at `dir` (made when absent, moved to HEAD when not there),
 * so the after side is committed code and not whatever edits are in progress; returns the commit id.
 */
export function prepareAfterTree(dir = AFTER_TREE): string {
  const want = git(['rev-parse', '--verify', 'HEAD^{commit}'])
  if (!existsSync(dir)) git(['worktree', 'add', '--detach', dir, want])
  if (git(['rev-parse', 'HEAD'], dir) !== want) git(['checkout', '--detach', '--quiet', want], dir)
  if (git(['status', '--porcelain', '--untracked-files=no'], dir) !== '') throw new Error(`${dir} has local edits`)
  linkModules(dir)
  return want
}

const exists = (path: string) => {
  try {
    lstatSync(path)
    return true
  } catch {
    return false
  }
}

function linkModules(dir: string): void {
  const main = join(REPO_ROOT, 'node_modules')
  const own = join(dir, 'node_modules')
  mkdirSync(join(own, '@vivim'), { recursive: true })
  for (const entry of readdirSync(main)) {
    if (entry === '@vivim' || exists(join(own, entry))) continue
    symlinkSync(join(main, entry), join(own, entry))
  }
  for (const name of WORKSPACES) {
    const link = join(own, '@vivim', name)
    if (!exists(link) && existsSync(join(dir, name))) symlinkSync(join(dir, name), link)
  }
}

/** Builds `root`'s deploy bundle and a copy of its config (paths made absolute) into `out`; returns wrangler dev's arguments. */
export function bundleTree(root: string, out: string): string[] {
  mkdirSync(out, { recursive: true })
  const config = join(out, 'wrangler.toml')
  const text = readFileSync(join(root, 'wrangler.toml'), 'utf8')
    .split('\n')
    .map((line) => {
      const path = /^(main|directory)\s*=\s*"([^"]+)"/.exec(line)
      return path ? `${path[1]} = ${JSON.stringify(resolve(root, path[2] as string))}` : line
    })
    .join('\n')
  writeFileSync(config, text)
  const bundle = join(out, 'bundle')
  try {
    execFileSync(process.execPath, [WRANGLER_JS, 'deploy', '--dry-run', '--config', config, '--outdir', bundle], {
      cwd: root,
      env: { ...process.env, ...QUIET },
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
    })
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string }
    throw new Error(`bundling ${root} failed: ${e.message}\n${(e.stdout ?? '') + (e.stderr ?? '')}`.slice(0, 4_000))
  }
  return [join(bundle, 'index.js'), '--no-bundle', '--config', config]
}

/** Whether the bundle `bundleTree` built holds the text (to check which relay it is). */
export function bundleHolds(args: readonly string[], text: string): boolean {
  return readFileSync(args[0] as string, 'utf8').includes(text)
}

/**
 * Starts `wrangler dev` on a built bundle with `VIVIM_ENV=development`, waits for it, and asks its
 * DID. `inspectorPort` for a caller that attaches to the isolate (a free one otherwise).
 */
export async function startEdge(
  side: Side,
  commit: string,
  bundle: readonly string[],
  inspectorPort?: number,
): Promise<Edge> {
  const port = await freePort()
  const persist = mkdtempSync(join(tmpdir(), `vivim-bench-rules-${side}-`))
  const args = ['dev', ...bundle, '--port', `${port}`, '--ip', '127.0.0.1', '--persist-to', persist]
  // Each edge needs its own inspector port, or the second of two fails to start.
  args.push('--inspector-port', `${inspectorPort ?? (await freePort())}`, '--var', 'VIVIM_ENV:development')
  const child = spawnServer(`wrangler dev (${side})`, WRANGLER_BIN, args, QUIET)
  const origin = `http://127.0.0.1:${port}`
  const stop = async () => {
    await child.stop()
    rmSync(persist, { recursive: true, force: true })
  }
  try {
    await waitForHttp(`${origin}/healthz`, READY_MS, child)
    const res = await fetch(`${origin}/v1/edge`, { signal: AbortSignal.timeout(10_000) })
    const { did } = (await res.json()) as { did?: unknown }
    if (typeof did !== 'string') throw new Error(`${side}: GET /v1/edge gave no DID`)
    return {
      side,
      commit,
      origin,
      did,
      docUrl: (docId, token) => `ws://127.0.0.1:${port}/v1/docs/${docId}?token=${token}`,
      cpuMs: () => groupCpuMs(child.pid),
      died: () => (child.exited() ? `${child.name} ${child.exitDescription()}` : null),
      logTail: () => child.logTail(),
      stop,
    }
  } catch (error) {
    await stop()
    throw error
  }
}
