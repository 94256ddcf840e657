/**
 * The packages as someone outside the repository gets them: the tarballs
 * installed in a fresh project in a temporary folder, with React, Vite and
 * Yjs from the registry (the npm cache first). A Vite + React app using
 * `@vivim/react` is built, served by `vite preview` (which proxies `/v1` to
 * the edge) and opened in Chromium; a plain Node ESM script using
 * `@vivim/client` shares a document and a topic with it, each way. The
 * installed types are checked for every entry point, and the bridge's
 * command runs with `npx vivim-bridge --help`.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join } from 'node:path'
import { promisify, stripVTControlCharacters } from 'node:util'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { launchChromium } from '../client/test/chromium.ts'
import { ROOT } from '../scripts/pack.ts'
import { freePort } from '../scripts/test-edge.ts'

const edge = inject('edgeUrl')
const packed = inject('packed')
const run = promisify(execFile)
// This Node (22) first on the PATH, for npm, npx and the scripts they start.
const env = { ...process.env, NO_COLOR: '1', PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH}` }

/** The version the repository itself uses, so the install comes from the npm cache when it can. */
const versionOf = (name: string) =>
  (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version

let project = ''
let browser: Browser | undefined
const children: ChildProcess[] = []

function npm(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run('npm', args, { cwd: project, env, maxBuffer: 16 * 1024 * 1024 })
}

/** Starts a long-running command in the project; it and its children end with the test. */
function start(command: string, args: string[], extraEnv: Record<string, string> = {}) {
  const child = spawn(command, args, {
    cwd: project,
    env: { ...env, ...extraEnv },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  let output = ''
  const onData = (d: Buffer) => {
    // Without colour codes, which vite puts inside its URLs.
    output = stripVTControlCharacters(output + d).slice(-8000)
    for (const waiter of [...waiters]) waiter()
  }
  const waiters = new Set<() => void>()
  child.stdout?.on('data', onData)
  child.stderr?.on('data', onData)
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)))
  /** Resolves once the output matches `pattern`; fails if the command exits first. */
  const printed = (pattern: RegExp) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (pattern.test(output)) {
          waiters.delete(check)
          resolve()
        }
      }
      waiters.add(check)
      check()
      void exited.then((code) => {
        waiters.delete(check)
        if (!pattern.test(output)) reject(new Error(`${command} ${args.join(' ')} exited (${code}):\n${output}`))
      })
    })
  return { child, exited, printed, output: () => output }
}

beforeAll(async () => {
  project = mkdtempSync(join(tmpdir(), 'vivim-consumer-'))
  cpSync(join(ROOT, 'consumer', 'app'), project, { recursive: true })
  const registry = ['react', 'react-dom', 'vite', '@vitejs/plugin-react', 'yjs'].map((n) => `${n}@${versionOf(n)}`)
  await npm([
    'install',
    '--prefer-offline',
    '--no-audit',
    '--no-fund',
    '--loglevel=error',
    ...packed.map((p) => p.tarball),
    ...registry,
  ])
  browser = await launchChromium()
}, 600_000)

afterAll(async () => {
  await browser?.close()
  for (const child of children) {
    if (child.exitCode === null && child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGTERM')
      } catch {}
    }
  }
  await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : null)))
  if (project) rmSync(project, { recursive: true, force: true })
})

describe('a project outside the repository', () => {
  it('installs the tarballs: every entry point resolves with its types, and the bridge command runs', async () => {
    const installed = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>
    }
    expect(Object.keys(installed.dependencies)).toEqual(
      expect.arrayContaining(['@vivim/shared', '@vivim/client', '@vivim/react', '@vivim/bridge']),
    )
    await run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], { env })
    const help = await run('npx', ['--no-install', 'vivim-bridge', '--help'], { cwd: project, env })
    expect(help.stdout).toContain('Usage: vivim-bridge')
  })

  it('a Vite + React app and a Node script share a document and a topic through the edge', async () => {
    await npm(['exec', '--no-install', '--', 'vite', 'build', '--logLevel', 'error'])
    const port = await freePort()
    const vite = start(
      'npx',
      ['--no-install', 'vite', 'preview', '--host', '127.0.0.1', '--port', String(port), '--strictPort'],
      { VIVIM_EDGE: edge },
    )
    await vite.printed(new RegExp(`127\\.0\\.0\\.1:${port}`))

    const docId = `notes:consumer-${crypto.randomUUID()}`
    const topic = `public:chat:consumer-${crypto.randomUUID()}`
    const peer = start(process.execPath, ['peer.mjs', edge, docId, topic])
    await peer.printed(/^wrote$/m)

    const page = await (browser as Browser).newPage()
    await page.goto(`http://127.0.0.1:${port}/?${new URLSearchParams({ doc: docId, topic })}`)
    await page.locator('#state[data-state="synced"]').waitFor()
    await expect.poll(() => page.textContent('#from-node')).toBe('from node')
    await expect.poll(() => page.locator('#messages li').allTextContents()).toEqual(['hello from node'])

    await page.click('#reply')
    await peer.printed(/^saw the reply$/m)
    expect(await peer.exited).toBe(0)
    await expect
      .poll(() => page.locator('#messages li').allTextContents())
      .toEqual(['hello from node', 'hello from react'])
    await page.close()
  })
})
