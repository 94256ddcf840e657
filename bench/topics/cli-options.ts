/** Command-line flags of `run.ts`, parsed with `node:util` into a plain typed object. */
import { parseArgs } from 'node:util'
import type { TargetKind } from './edge-under-test.ts'

const TARGETS: readonly TargetKind[] = ['edge', 'naive', 'ws']

export interface TopicBenchOptions {
  subscribers: number[]
  rates: number[]
  durationS: number
  warmupS: number
  drainS: number
  threads: number
  perSocketRate: number
  quietWaitS: number
  url: string | null
  injectLoss: boolean
  /** The servers measured, each row once per target: the edge, and its anchors. */
  targets: TargetKind[]
}

export const USAGE = `usage: node bench/topics/run.ts [flags]   (npm run bench:topics -- [flags])
  --subscribers a,b   subscribers on one topic, one set of rows each (100,1000)
  --rate a,b,c        offered messages/s from the publisher, one row each (100,500,1000)
  --duration S        measured seconds per row (10), after --warmup S (2)
  --drain S           longest wait after the last publish for every message to arrive (8)
  --threads N         worker threads holding the subscriber sockets (2)
  --per-socket-rate N most messages/s one publisher socket sends (190; the room allows one
                      publisher 200 messages/s, so faster rates use more sockets)
  --quiet-wait S      longest wait before a row for other processes to go idle (3)
  --url URL           an already running edge (http://127.0.0.1:8787) instead of wrangler dev
  --targets a,b       servers measured on every row, in this order (edge,naive,ws): edge = the
                      edge's TopicRoom, naive = a broadcast Durable Object without verification
                      under its own wrangler dev, ws = a Node \`ws\` broadcast server
  --inject-loss       one subscriber ignores one message: the completeness check must fail`

function int(value: string | undefined, fallback: number, name: string, min: number, max: number): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer in ${min}..${max}`)
  return n
}

function list(value: string | undefined, fallback: number[], name: string, min: number, max: number): number[] {
  if (value === undefined) return fallback
  const items = value.split(',').map((v) => int(v.trim().replaceAll('_', ''), 0, name, min, max))
  if (items.length === 0 || items.length > 10) throw new Error(`--${name} takes 1 to 10 values`)
  return items
}

function targets(value: string | undefined): TargetKind[] {
  if (value === undefined) return [...TARGETS]
  const items = value.split(',').map((v) => v.trim())
  const bad = items.filter((v) => !TARGETS.includes(v as TargetKind))
  if (items.length === 0 || bad.length > 0) throw new Error(`--targets takes some of ${TARGETS.join(',')}`)
  return [...new Set(items as TargetKind[])]
}

function url(value: string | undefined): string | null {
  if (value === undefined) return null
  if (!/^(https?|wss?):\/\/[^/]+\/?$/.test(value)) throw new Error('--url must look like http://127.0.0.1:8787')
  return value
}

/** The options, or null when `--help` was asked for; throws on a bad flag. */
export function parseOptions(argv: string[]): TopicBenchOptions | null {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      subscribers: { type: 'string' },
      rate: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      drain: { type: 'string' },
      threads: { type: 'string' },
      'per-socket-rate': { type: 'string' },
      'quiet-wait': { type: 'string' },
      url: { type: 'string' },
      'inject-loss': { type: 'boolean' },
      targets: { type: 'string' },
      help: { type: 'boolean' },
    },
  })
  if (values.help) return null
  return {
    subscribers: list(values.subscribers, [100, 1000], 'subscribers', 1, 5_000),
    rates: list(values.rate, [100, 500, 1000], 'rate', 1, 20_000),
    durationS: int(values.duration, 10, 'duration', 1, 120),
    warmupS: int(values.warmup, 2, 'warmup', 0, 30),
    drainS: int(values.drain, 8, 'drain', 1, 60),
    threads: int(values.threads, 2, 'threads', 1, 8),
    perSocketRate: int(values['per-socket-rate'], 190, 'per-socket-rate', 1, 1_000),
    quietWaitS: int(values['quiet-wait'], 3, 'quiet-wait', 0, 60),
    url: url(values.url),
    injectLoss: values['inject-loss'] ?? false,
    targets: targets(values.targets),
  }
}
