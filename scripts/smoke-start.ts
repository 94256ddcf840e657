/**
 * Checks the quick start's `npm start` as a newcomer runs it: starts the
 * local system, waits for the edge's `GET /healthz` on the documented port
 * and for the bridge's metrics to say its link to the edge is up, then stops
 * it. Exits non-zero if either does not answer within the deadline.
 */
import { spawn } from 'node:child_process'

const URL = 'http://127.0.0.1:8787/healthz'
const METRICS = 'http://127.0.0.1:9464/metrics'
const DEADLINE_MS = 90_000

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

const started = Date.now()

async function waitFor<T>(url: string, read: (res: Response) => Promise<T | null>): Promise<T> {
  while (Date.now() - started < DEADLINE_MS) {
    try {
      const res = await fetch(url)
      const value = res.ok ? await read(res) : null
      if (value !== null) return value
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
  throw new Error(`no answer from ${url} within ${DEADLINE_MS} ms`)
}

try {
  const health = await waitFor(URL, (res) => res.json())
  console.log(`npm start serves ${URL}: ${JSON.stringify(health)}`)
  const link = await waitFor(METRICS, async (res) => {
    const line = (await res.text()).split('\n').find((l) => l.startsWith('vivim_bridge_edge_link_up '))
    return line?.endsWith(' 1') ? line : null
  })
  console.log(`npm start runs a bridge joined to the edge: ${link}`)
  stop()
} catch (error) {
  stop()
  console.error(output)
  console.error((error as Error).message)
  process.exit(1)
}
