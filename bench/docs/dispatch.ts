/**
 * What the runtime itself costs per WebSocket message delivered to a Durable
 * Object, by socket API: a Worker whose object only counts messages
 * (`dispatch-worker/`) under `wrangler dev`, 20 sockets sending 40-byte
 * frames at `--rate` (2,000) a second for `--seconds` (10), once with
 * hibernatable sockets (`ctx.acceptWebSocket`, what the rooms use) and once
 * with `accept()`. CPU is that of wrangler's whole process group (both
 * workerd processes and wrangler's Node), read from /proc.
 *
 *   node_modules/.bin/node bench/docs/dispatch.ts [--rate 2000] [--seconds 10]
 */
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import WebSocket from 'ws'
import { freePort, groupCpuMs, killAllChildrenNow, REPO_ROOT, spawnServer, waitForHttp } from './child-processes.ts'
import { count } from './stats.ts'

const { values } = parseArgs({
  options: { rate: { type: 'string', default: '2000' }, seconds: { type: 'string', default: '10' } },
})
const rate = Number(values.rate)
const seconds = Number(values.seconds)
const SOCKETS = 20

async function load(origin: string, api: string): Promise<number> {
  const room = `${api}-${Date.now()}`
  const sockets = await Promise.all(
    Array.from(
      { length: SOCKETS },
      () =>
        new Promise<WebSocket>((done, fail) => {
          const ws = new WebSocket(`${origin.replace('http', 'ws')}/?api=${api}&room=${room}`)
          ws.once('open', () => done(ws))
          ws.once('error', fail)
        }),
    ),
  )
  const frame = new Uint8Array(40)
  let sent = 0
  const perTick = rate / SOCKETS / 100
  let owed = 0
  const timer = setInterval(() => {
    owed += perTick
    for (; owed >= 1; owed--)
      for (const ws of sockets) {
        ws.send(frame)
        sent++
      }
  }, 10)
  await new Promise((done) => setTimeout(done, seconds * 1000))
  clearInterval(timer)
  for (const ws of sockets) ws.close()
  return sent
}

const port = await freePort()
const config = join(REPO_ROOT, 'bench', 'docs', 'dispatch-worker', 'wrangler.toml')
const args = [join(REPO_ROOT, 'node_modules', 'wrangler', 'bin', 'wrangler.js'), 'dev', '--config', config]
const child = spawnServer('wrangler dev', process.execPath, [...args, '--port', `${port}`, '--ip', '127.0.0.1'], {
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  WRANGLER_SEND_METRICS: 'false',
})
try {
  const origin = `http://127.0.0.1:${port}`
  await waitForHttp(`${origin}/count`, 90_000, child)
  console.log(`| socket API | messages | offered/s | server CPU ms | CPU µs per message |`)
  console.log('| --- | ---: | ---: | ---: | ---: |')
  for (const api of ['hibernatable', 'plain', 'hibernatable', 'plain']) {
    const before = groupCpuMs(child.pid) ?? 0
    const sent = await load(origin, api)
    await new Promise((done) => setTimeout(done, 1000))
    const used = (groupCpuMs(child.pid) ?? 0) - before
    console.log(
      `| ${api} | ${count(sent)} | ${count(rate)} | ${count(Math.round(used))} | ${((1000 * used) / sent).toFixed(0)} |`,
    )
  }
} finally {
  await child.stop()
  killAllChildrenNow()
}
