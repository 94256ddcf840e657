/**
 * `npm start`: the whole local system in one command. Builds the demo, runs
 * the edge under `wrangler dev` (Miniflare, http://127.0.0.1:8787, development
 * mode) and, once it answers, a libp2p bridge joined to it (TCP 4001,
 * WebSockets 4002, WebRTC-direct UDP 4003, metrics at http://127.0.0.1:9464/metrics, its key and
 * records in `.wrangler/bridge`). Ctrl-C stops both. `VIVIM_START_BRIDGE=0`
 * runs the edge alone.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import { ROOT } from './test-edge.ts'

const EDGE = 'http://127.0.0.1:8787'
const children: ChildProcess[] = []

function run(name: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: 'inherit', env: { ...process.env, ...env } })
  children.push(child)
  child.on('exit', (code, signal) => {
    if (stopping) return
    console.error(`${name} stopped (${signal ?? code})`)
    // The edge is the system; the bridge is one of its peers and may go alone.
    if (name === 'edge') stop(code ?? 1)
  })
  return child
}

let stopping = false
function stop(code = 0): void {
  stopping = true
  for (const child of children) child.kill('SIGTERM')
  // Each child shuts down on its own (wrangler stops its workerd); wait for them, within reason.
  setTimeout(() => process.exit(code), 10_000).unref()
  Promise.all(
    children.map((c) => new Promise((done) => (c.exitCode !== null ? done(null) : c.once('exit', done)))),
  ).then(() => process.exit(code))
}
process.on('SIGINT', () => stop())
process.on('SIGTERM', () => stop())

async function edgeAnswers(): Promise<boolean> {
  for (let attempt = 0; attempt < 240 && !stopping; attempt++) {
    try {
      if ((await fetch(`${EDGE}/healthz`)).ok) return true
    } catch {}
    await new Promise((r) => setTimeout(r, 500))
  }
  return false
}

const built = spawn(process.execPath, [join(ROOT, 'scripts', 'build-demo.ts')], { cwd: ROOT, stdio: 'inherit' })
const builtCode = await new Promise<number | null>((done) => built.on('exit', done))
if (builtCode !== 0) process.exit(builtCode ?? 1)

run('edge', [join(ROOT, 'node_modules', 'wrangler', 'bin', 'wrangler.js'), 'dev', '--var', 'VIVIM_ENV:development'], {
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  WRANGLER_SEND_METRICS: 'false',
})
if (process.env.VIVIM_START_BRIDGE !== '0' && (await edgeAnswers())) {
  run('bridge', [join(ROOT, 'node-bridge', 'src', 'cli.ts')], {
    VIVIM_EDGE_URL: EDGE,
    VIVIM_BRIDGE_LISTEN: '/ip4/127.0.0.1/tcp/4001,/ip4/127.0.0.1/tcp/4002/ws,/ip4/127.0.0.1/udp/4003/webrtc-direct',
    VIVIM_BRIDGE_DATA_DIR: join(ROOT, '.wrangler', 'bridge'),
    VIVIM_BRIDGE_TOPICS: process.env.VIVIM_BRIDGE_TOPICS ?? '*',
    VIVIM_BRIDGE_MDNS: process.env.VIVIM_BRIDGE_MDNS ?? 'false',
    VIVIM_BRIDGE_METRICS: '127.0.0.1:9464',
  })
}
