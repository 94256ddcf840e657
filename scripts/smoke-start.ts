/**
 * Checks the quick start's `npm start` as a newcomer runs it: starts the
 * local edge, waits for `GET /healthz` on the documented port, then stops it.
 * Exits non-zero if the edge does not answer within the deadline.
 */
import { spawn } from 'node:child_process'

const URL = 'http://127.0.0.1:8787/healthz'
const DEADLINE_MS = 60_000

const child = spawn('npm', ['start'], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
let output = ''
child.stdout.on('data', (chunk: Buffer) => {
  output += chunk
})
child.stderr.on('data', (chunk: Buffer) => {
  output += chunk
})

function stop(): void {
  if (child.pid !== undefined) {
    try {
      process.kill(-child.pid, 'SIGTERM')
    } catch {}
  }
}

async function waitForHealth(): Promise<unknown> {
  const started = Date.now()
  while (Date.now() - started < DEADLINE_MS) {
    try {
      const res = await fetch(URL)
      if (res.ok) return await res.json()
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
  throw new Error(`no answer from ${URL} within ${DEADLINE_MS} ms`)
}

try {
  const health = await waitForHealth()
  console.log(`npm start serves ${URL}: ${JSON.stringify(health)}`)
  stop()
} catch (error) {
  stop()
  console.error(output)
  console.error((error as Error).message)
  process.exit(1)
}
