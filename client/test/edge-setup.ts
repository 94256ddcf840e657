/**
 * Builds the demo and starts the real edge (wrangler dev, on Miniflare and
 * workerd, serving the demo too) once for the SDK's tests, on a free
 * loopback port with its own state directory, and stops it afterwards.
 * Tests read its URL with `inject('edgeUrl')`.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { TestProject } from 'vitest/node'

declare module 'vitest' {
  export interface ProvidedContext {
    edgeUrl: string
  }
}

const ROOT = resolve(import.meta.dirname, '..', '..')

function freePort(): Promise<number> {
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
  for (let attempt = 0; attempt < 240; attempt++) {
    if (child.exitCode !== null) throw new Error(`the edge exited:\n${output()}`)
    try {
      if ((await fetch(`${url}/healthz`)).ok) return
    } catch {}
    await new Promise((r) => setTimeout(r, 250))
  }
  throw new Error(`the edge did not answer at ${url}:\n${output()}`)
}

function buildDemo(): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(join(ROOT, 'node_modules', '.bin', 'node'), [join(ROOT, 'scripts', 'build-demo.ts')], {
      cwd: ROOT,
      stdio: 'inherit',
    })
    child.on('exit', (code) => (code === 0 ? done() : fail(new Error(`building the demo failed (${code})`))))
  })
}

export default async function setup(project: TestProject): Promise<() => void> {
  await buildDemo()
  const port = await freePort()
  const state = mkdtempSync(join(tmpdir(), 'vivim-edge-'))
  const child = spawn(
    join(ROOT, 'node_modules', '.bin', 'wrangler'),
    ['dev', '--port', String(port), '--ip', '127.0.0.1', '--var', 'VIVIM_ENV:development', '--persist-to', state],
    {
      cwd: ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_SEND_METRICS: 'false' },
    },
  )
  let log = ''
  child.stdout?.on('data', (d: Buffer) => (log = (log + d).slice(-8000)))
  child.stderr?.on('data', (d: Buffer) => (log = (log + d).slice(-8000)))
  const url = `http://127.0.0.1:${port}`
  const stop = () => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM')
    } catch {}
  }
  try {
    await waitForHealth(url, child, () => log)
  } catch (error) {
    stop()
    throw error
  }
  project.provide('edgeUrl', url)
  return stop
}
