/**
 * The two edges the rules benchmark compares: the current tree ("after")
 * and the commit before the authorship checks ("before"), each bundled once
 * from its own tree (`bundleWorker`) and served by its own `wrangler dev
 * --no-bundle` on its own ports and state directory.
 *
 * The old tree is a git worktree (`git worktree add <dir> <commit>`, made
 * when absent). Its `node_modules` is a directory of symlinks to the main
 * tree's entries, except `@vivim/*`, which point into the worktree, so the
 * bundle holds the old `shared` and `client` with the same third-party code.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { REPO_ROOT } from '../lib/child-process.ts'
import { startWrangler, type WranglerServer } from '../lib/edge-process.ts'

export const BEFORE_COMMIT = 'ac76cfa'
export const BEFORE_TREE = '/tmp/relay-before'
export const AFTER_TREE = '/tmp/relay-after'

const WORKSPACES = ['shared', 'client', 'node-bridge']

export type Side = 'before' | 'after'

export interface Edge extends WranglerServer {
  readonly side: Side
  /** The commit its tree is at (for the after side, HEAD; the tree may hold uncommitted edits too). */
  readonly commit: string
  /** The edge's DID, from `GET /v1/edge`: the audience of every invocation. */
  readonly did: string
  docUrl(docId: string, token: string): string
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

/** Whether the bundle `bundleWorker` built holds the text (to check which relay it is). */
export function bundleHolds(args: readonly string[], text: string): boolean {
  return readFileSync(args[0] as string, 'utf8').includes(text)
}

/**
 * Starts `wrangler dev` on a built bundle with `VIVIM_ENV=development`, waits for it, and asks its
 * DID. `inspectorPort` for a caller that attaches to the isolate (a free one otherwise: each edge
 * needs its own, or the second of two fails to start).
 */
export async function startEdge(
  side: Side,
  commit: string,
  bundle: readonly string[],
  inspectorPort?: number,
): Promise<Edge> {
  const server = await startWrangler({
    name: `wrangler dev (${side})`,
    source: bundle,
    vars: { VIVIM_ENV: 'development' },
    inspectorPort: inspectorPort ?? 'free',
  })
  try {
    const res = await fetch(`${server.origin}/v1/edge`, { signal: AbortSignal.timeout(10_000) })
    const { did } = (await res.json()) as { did?: unknown }
    if (typeof did !== 'string') throw new Error(`${side}: GET /v1/edge gave no DID`)
    return {
      ...server,
      side,
      commit,
      did,
      docUrl: (docId, token) => `ws://127.0.0.1:${server.port}/v1/docs/${docId}?token=${token}`,
    }
  } catch (error) {
    await server.stop()
    throw error
  }
}
