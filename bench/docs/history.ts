/**
 * Sync of a long history: how long a new client takes to load a document
 * that has seen N small updates (default 100,000), on each server.
 *
 * Fill: one client makes N small changes on its own Y.Doc, each in its own
 * transaction (a Y.Map set of a short string under a new key, so none of the
 * N items merge into another), and sends them merged by --batch into one
 * `update` frame, waiting for a sync round trip after each frame. Then R
 * fresh clients, one after another, are timed from `new WebSocket` to the
 * server's sync step 2 received and applied; each must hold all N keys.
 * The filling client stays connected throughout, so in-memory servers keep
 * the document (hocuspocus unloads a document when its last client leaves).
 *
 *   node_modules/.bin/node bench/docs/history.ts [--updates 100000] [--batch 1000]
 *     [--repeat 3] [--only relay,reference,hocuspocus] [--relay-url ws://...] [--json]
 */
import * as Y from 'yjs'
import { parseOptions } from '../lib/options.ts'
import { bytes, count, markdownTable, ms, ratio, writeResults } from '../lib/report-table.ts'
import { guardRun, machineLine, progress } from '../lib/run-environment.ts'
import { median } from '../lib/stats.ts'
import { now } from '../lib/worker-pool.ts'
import { HISTORY_OPTIONS, type HistoryOptions } from './cli-options.ts'
import { DocClient, REMOTE } from './doc-client.ts'
import { eachServer, type RunningServer, SERVER_LABELS, type ServerName } from './server-targets.ts'
import { framing } from './wire-dialects.ts'

interface SyncTiming {
  openMs: number
  step2ArrivedMs: number
  applyMs: number
  totalMs: number
  step2Bytes: number
  keys: number
}

interface HistoryResult {
  server: ServerName
  updates: number
  fillMs: number
  syncs: SyncTiming[]
  complete: boolean
  error: string | null
}

const CONNECT_MS = 15_000
const ROUND_TRIP_MS = 30_000
const SYNC_MS = 120_000

async function fill(client: DocClient, options: HistoryOptions): Promise<number> {
  const started = now()
  const pending: Uint8Array[] = []
  client.doc.on('update', (update: Uint8Array, origin: unknown) => {
    if (origin !== REMOTE) pending.push(update)
  })
  const map = client.doc.getMap<string>('history')
  for (let n = 0; n < options.updates; n++) {
    map.set(`k${n}`, `update ${n}`)
    if (pending.length >= options.batch || n === options.updates - 1) {
      client.sendUpdate(Y.mergeUpdates(pending.splice(0)))
      await client.roundTrip(ROUND_TRIP_MS)
    }
  }
  return now() - started
}

async function timeSync(server: RunningServer, docId: string, updates: number): Promise<SyncTiming> {
  const client = await DocClient.connect(server.urlFor(docId), framing(server.dialect, docId), SYNC_MS, {
    manualSend: true,
  })
  const t = client.timings
  const timing: SyncTiming = {
    openMs: (t.openAt ?? Number.NaN) - t.startedAt,
    step2ArrivedMs: (t.step2ReceivedAt ?? Number.NaN) - t.startedAt,
    applyMs: (t.step2AppliedAt ?? Number.NaN) - (t.step2ReceivedAt ?? Number.NaN),
    totalMs: (t.step2AppliedAt ?? Number.NaN) - t.startedAt,
    step2Bytes: t.step2Bytes,
    keys: client.doc.getMap('history').size,
  }
  await client.close()
  if (timing.keys !== updates) throw new Error(`a fresh client holds ${timing.keys} of ${updates} updates`)
  return timing
}

async function measure(server: RunningServer, options: HistoryOptions, runId: string): Promise<HistoryResult> {
  const docId = `history-${runId}-${server.name}`
  const result: HistoryResult = {
    server: server.name,
    updates: options.updates,
    fillMs: Number.NaN,
    syncs: [],
    complete: false,
    error: null,
  }
  const filler = await DocClient.connect(server.urlFor(docId), framing(server.dialect, docId), CONNECT_MS, {
    manualSend: true,
  })
  try {
    result.fillMs = await fill(filler, options)
    progress(`${server.name}: filled ${count(options.updates)} updates in ${ms(result.fillMs)} ms`)
    for (let r = 0; r < options.repeat; r++) result.syncs.push(await timeSync(server, docId, options.updates))
    result.complete = true
  } catch (error) {
    result.error = (error as Error).message
  } finally {
    await filler.close()
  }
  return result
}

function table(results: readonly HistoryResult[]): string {
  const header = ['server', 'updates', 'fill s', 'step 2 size', 'open ms', 'step 2 arrives ms', 'apply ms']
  header.push('sync ms (median)', 'first sync ms', 'sync vs ref', 'all keys')
  const ref = results.find((r) => r.server === 'reference' && r.complete)
  const med = (r: HistoryResult | undefined, f: (s: SyncTiming) => number) =>
    r === undefined ? Number.NaN : median(r.syncs.map(f))
  const rows = results.map((r) => [
    SERVER_LABELS[r.server],
    count(r.updates),
    (r.fillMs / 1000).toFixed(1),
    r.syncs[0] ? bytes(r.syncs[0].step2Bytes) : 'n/a',
    ms(med(r, (s) => s.openMs)),
    ms(med(r, (s) => s.step2ArrivedMs)),
    ms(med(r, (s) => s.applyMs)),
    ms(med(r, (s) => s.totalMs)),
    ms(r.syncs[0]?.totalMs ?? Number.NaN),
    ratio(
      med(r, (s) => s.totalMs),
      ref === undefined ? undefined : med(ref, (s) => s.totalMs),
    ),
    r.complete ? 'yes' : `**NO**: ${r.error}`,
  ])
  return markdownTable(header, rows)
}

const options = parseOptions(
  'node bench/docs/history.ts [flags]   (npm run bench:docs:history -- [flags])',
  HISTORY_OPTIONS,
)
guardRun(options.only.length * (240 + options.repeat * 30) * 1000)

const runId = Date.now().toString(36)
const results: HistoryResult[] = []
const skipped = await eachServer(options.only, options.relayUrl, async (server) => {
  results.push(await measure(server, options, runId))
})

const out = [
  '## Yjs document history sync',
  '',
  `A fresh client syncs a document of ${count(options.updates)} small updates (filled in frames of ${count(options.batch)} merged updates); ` +
    `${options.repeat} fresh clients per server, one at a time, timed from \`new WebSocket\` to sync step 2 applied.`,
  `Machine: ${machineLine()}.`,
  '',
  table(results),
  '',
  ...skipped.map((reason) => `- skipped ${reason}`),
]
console.log(out.join('\n'))
if (options.json)
  progress(`raw results: ${writeResults('docs-history', { runId, machine: machineLine(), options, skipped, results })}`)
process.exit(results.every((r) => r.complete) ? 0 : 1)
