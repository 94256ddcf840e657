/**
 * Command-line flags of `run.ts` (fan-out load) and `history.ts` (sync of a
 * long history), parsed with `node:util` and checked into plain typed objects.
 */
import { parseArgs } from 'node:util'
import { SERVER_NAMES, type ServerName } from './server-targets.ts'

export interface CommonOptions {
  only: ServerName[]
  relayUrl: string | null
  json: boolean
}

export interface LoadOptions extends CommonOptions {
  clients: number
  rates: number[]
  durationS: number
  warmupS: number
  drainS: number
  workers: number
  quietWaitS: number
  injectLoss: boolean
}

export interface HistoryOptions extends CommonOptions {
  updates: number
  batch: number
  repeat: number
}

export const LOAD_USAGE = `usage: node bench/docs/run.ts [flags]
  --clients N         sending clients on one document (20), plus one observer
  --rates a,b,c       total offered updates/s, one row per rate and server (500,2000,4000)
  --duration S        measured seconds per row (10), after --warmup S (2)
  --drain S           longest wait for every client to hold every update (10)
  --workers N         worker threads for the senders (2)
  --quiet-wait S      longest wait before a row for other processes to go idle (5)
  --only a,b          servers: relay, reference, hocuspocus, partyserver, partyserver-hib (all)
  --relay-url URL     use a running relay (ws://host:port) instead of starting wrangler dev
  --json              also write raw results to bench/results/
  --inject-loss       drop one update on purpose: the completeness check must fail`

export const HISTORY_USAGE = `usage: node bench/docs/history.ts [flags]
  --updates N         updates of history to fill before timing (100000)
  --batch N           updates merged into one frame while filling (1000)
  --repeat N          fresh clients timed per server (3)
  --only a,b          servers: relay, reference, hocuspocus, partyserver, partyserver-hib (all)
  --relay-url URL     use a running relay (ws://host:port) instead of starting wrangler dev
  --json              also write raw results to bench/results/`

function int(value: string | undefined, fallback: number, name: string, min: number, max: number): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer in ${min}..${max}`)
  return n
}

function servers(value: string | undefined): ServerName[] {
  if (value === undefined) return [...SERVER_NAMES]
  const names = value.split(',').map((s) => s.trim())
  for (const name of names) {
    if (!(SERVER_NAMES as readonly string[]).includes(name)) {
      throw new Error(`--only takes ${SERVER_NAMES.join(', ')}; got "${name}"`)
    }
  }
  return SERVER_NAMES.filter((name) => names.includes(name))
}

function relayUrl(value: string | undefined): string | null {
  if (value === undefined) return null
  if (!/^wss?:\/\/[^/]+/.test(value)) throw new Error('--relay-url must look like ws://127.0.0.1:8787')
  return value
}

const common = {
  only: { type: 'string' },
  'relay-url': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean' },
} as const

/** Returns null when `--help` was given (the caller prints the usage). */
export function parseLoadOptions(argv: string[]): LoadOptions | null {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      ...common,
      clients: { type: 'string' },
      rates: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      drain: { type: 'string' },
      workers: { type: 'string' },
      'quiet-wait': { type: 'string' },
      'inject-loss': { type: 'boolean' },
    },
  })
  if (values.help) return null
  const rates = (values.rates ?? '500,2000,4000').split(',').map((r) => int(r.trim(), 0, 'rates', 1, 100_000))
  return {
    only: servers(values.only),
    relayUrl: relayUrl(values['relay-url']),
    json: values.json ?? false,
    clients: int(values.clients, 20, 'clients', 1, 500),
    rates,
    durationS: int(values.duration, 10, 'duration', 1, 600),
    warmupS: int(values.warmup, 2, 'warmup', 0, 60),
    drainS: int(values.drain, 10, 'drain', 1, 120),
    workers: int(values.workers, 2, 'workers', 1, 8),
    quietWaitS: int(values['quiet-wait'], 5, 'quiet-wait', 0, 600),
    injectLoss: values['inject-loss'] ?? false,
  }
}

export function parseHistoryOptions(argv: string[]): HistoryOptions | null {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: { ...common, updates: { type: 'string' }, batch: { type: 'string' }, repeat: { type: 'string' } },
  })
  if (values.help) return null
  return {
    only: servers(values.only),
    relayUrl: relayUrl(values['relay-url']),
    json: values.json ?? false,
    updates: int(values.updates, 100_000, 'updates', 1, 10_000_000),
    batch: int(values.batch, 1_000, 'batch', 1, 100_000),
    repeat: int(values.repeat, 3, 'repeat', 1, 50),
  }
}
