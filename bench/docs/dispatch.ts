/**
 * What the runtime itself costs per WebSocket message delivered to a Durable
 * Object, by socket API and by the way the runtime is run: a Worker whose
 * object only counts messages (`dispatch-worker/`), 20 sockets sending
 * 40-byte frames at `--rate` (2,000) a second for `--seconds` (10), with
 * hibernatable sockets (`ctx.acceptWebSocket`, what the rooms use) and with
 * `accept()`, under each setup of `dispatch-setups.ts` (`wrangler dev`,
 * Miniflare's API, `workerd serve` alone, with an inspector port, with an
 * inspector session). CPU is that of the setup's whole process group, read
 * from /proc, split into workerd and Node; `received` is what the object
 * counted, so a setup that drops or lags shows.
 *
 *   node bench/docs/dispatch.ts [--rate 2000] [--seconds 10] [--rounds 1] [--only workerd,wrangler-dev]
 */
import WebSocket from 'ws'
import { killAllChildrenNow, sleep } from '../lib/child-process.ts'
import { int, list, parseOptions } from '../lib/options.ts'
import { count, markdownTable } from '../lib/report-table.ts'
import { machineLine, progress } from '../lib/run-environment.ts'
import { type RunningSetup, SETUP_NAMES, startSetup, WORKERD_BIN } from './dispatch-setups.ts'

const { rate, seconds, rounds, only } = parseOptions('node bench/docs/dispatch.ts [flags]', {
  rate: int(2000, 1, 100_000, 'frames/s over all sockets'),
  seconds: int(10, 1, 600, 'seconds a row'),
  rounds: int(1, 1, 20, 'rows per setup and socket API'),
  only: list(SETUP_NAMES, 'setups, in this order'),
})
const SOCKETS = 20
const SETTLE_MS = 1_000

type Api = 'hibernatable' | 'plain'

/** Sends at `rate` for `seconds` on 20 sockets to one fresh object; returns messages sent and counted by it. */
async function load(origin: string, api: Api): Promise<{ sent: number; received: number }> {
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
  await sleep(seconds * 1000)
  clearInterval(timer)
  await sleep(SETTLE_MS)
  const res = await fetch(`${origin}/count?room=${room}`, { signal: AbortSignal.timeout(10_000) })
  const { received } = (await res.json()) as { received: number }
  for (const ws of sockets) ws.close()
  return { sent, received }
}

const sum = (m: Map<string, number>, pick: (command: string) => boolean) =>
  [...m].reduce((total, [command, ms]) => (pick(command) ? total + ms : total), 0)

const lines: string[][] = []
async function measure(setup: RunningSetup, api: Api): Promise<void> {
  const before = setup.cpuByCommand()
  const { sent, received } = await load(setup.origin, api)
  const after = setup.cpuByCommand()
  const used = (pick: (command: string) => boolean) => sum(after, pick) - sum(before, pick)
  const workerd = used((c) => c.startsWith('workerd'))
  const total = used(() => true)
  const cells = [
    setup.name,
    api,
    count(sent),
    count(received),
    count(Math.round(workerd)),
    count(Math.round(total - workerd)),
    ((1000 * total) / sent).toFixed(0),
    ((1000 * workerd) / sent).toFixed(0),
  ]
  lines.push(cells)
  progress(`| ${cells.join(' | ')} |`)
}

try {
  for (const name of only) {
    progress(`starting ${name}`)
    const setup = await startSetup(name)
    try {
      for (let round = 0; round < rounds; round++) {
        for (const api of ['hibernatable', 'plain'] as const) await measure(setup, api)
      }
    } finally {
      await setup.stop()
    }
  }
} finally {
  killAllChildrenNow()
}
console.log(`## Runtime CPU per WebSocket message (${count(rate)} msg/s on ${SOCKETS} sockets, ${seconds} s a row)`)
console.log('')
console.log(`Machine: ${machineLine()}. workerd: ${WORKERD_BIN}. CPU of the setup's process group, from /proc.`)
console.log('')
const header = ['setup', 'socket API', 'sent', 'received', 'workerd CPU ms', 'Node CPU ms']
header.push('CPU µs per message', 'workerd µs per message')
console.log(markdownTable(header, lines, 'llrrrrrr'))
