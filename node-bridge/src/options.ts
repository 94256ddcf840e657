/**
 * The command line of `vivim-bridge`: flags, each with an environment
 * variable of the same meaning (a flag wins over its variable), turned into
 * a `BridgeInit`. Lists take a flag once per item or a comma-separated
 * variable.
 *
 * @example
 * ```ts
 * const options = parseOptions(['--edge', 'http://127.0.0.1:8787', '--topic', 'public:*'], process.env)
 * ```
 */
import { parseArgs } from 'node:util'
import { decodeCapabilityText, ErrorCode, isTopic, VivimError } from '@vivim/shared'
import type { BridgeInit } from './bridge.ts'
import { type LogFormat, type LogLevel, LogLevels } from './log.ts'
import { DEFAULT_RELAY_LIMIT, MAX_RELAY_DURATION_MS } from './node.ts'

export interface CliOptions {
  help: boolean
  init: BridgeInit
  log: { format: LogFormat; level: LogLevel }
}

interface Flag {
  type: 'string' | 'boolean'
  multiple?: boolean
  env: string
  help: string
  default?: string
}

export const FLAGS: Record<string, Flag> = {
  listen: {
    type: 'string',
    multiple: true,
    env: 'VIVIM_BRIDGE_LISTEN',
    // WebRTC-direct is on by default: without it a browser on an https page reaches a bridge only
    // through WSS, which takes a domain and a certificate.
    default: '/ip4/0.0.0.0/tcp/4001,/ip4/0.0.0.0/tcp/4002/ws,/ip4/0.0.0.0/udp/4003/webrtc-direct',
    help: 'multiaddr to listen on',
  },
  announce: { type: 'string', multiple: true, env: 'VIVIM_BRIDGE_ANNOUNCE', help: 'multiaddr to tell peers to dial' },
  bootstrap: {
    type: 'string',
    multiple: true,
    env: 'VIVIM_BRIDGE_BOOTSTRAP',
    help: 'peer multiaddr (with /p2p/<id>) to join through',
  },
  edge: { type: 'string', env: 'VIVIM_EDGE_URL', help: 'the edge to join, http(s)://host[:port]' },
  token: {
    type: 'string',
    multiple: true,
    env: 'VIVIM_BRIDGE_TOKEN',
    help: "a capability granted to the bridge's DID (on bridge, or on topics)",
  },
  topic: {
    type: 'string',
    multiple: true,
    env: 'VIVIM_BRIDGE_TOPICS',
    help: 'topic or pattern ending in * to forward',
  },
  'data-dir': {
    type: 'string',
    env: 'VIVIM_BRIDGE_DATA_DIR',
    default: './vivim-bridge-data',
    help: "key, peers and DHT records ('memory' for none)",
  },
  mdns: {
    type: 'boolean',
    env: 'VIVIM_BRIDGE_MDNS',
    default: 'true',
    help: 'find peers on the LAN (--no-mdns to turn off)',
  },
  metrics: {
    type: 'string',
    env: 'VIVIM_BRIDGE_METRICS',
    default: '127.0.0.1:9464',
    help: "host:port of /metrics ('off' for none)",
  },
  'max-connections': {
    type: 'string',
    env: 'VIVIM_BRIDGE_MAX_CONNECTIONS',
    default: '200',
    help: 'most open connections',
  },
  'relay-limit': {
    type: 'boolean',
    env: 'VIVIM_BRIDGE_RELAY_LIMIT',
    default: 'true',
    help: 'limit each relayed connection (--no-relay-limit relays without one)',
  },
  'relay-limit-duration': {
    type: 'string',
    env: 'VIVIM_BRIDGE_RELAY_LIMIT_DURATION',
    default: String(DEFAULT_RELAY_LIMIT.durationMs),
    help: 'ms a relayed connection may stay open',
  },
  'relay-limit-data': {
    type: 'string',
    env: 'VIVIM_BRIDGE_RELAY_LIMIT_DATA',
    default: String(DEFAULT_RELAY_LIMIT.dataBytes),
    help: 'bytes a relayed connection may carry, both ways together',
  },
  'log-format': {
    type: 'string',
    env: 'VIVIM_BRIDGE_LOG_FORMAT',
    help: "'json' or 'pretty' (default: pretty on a terminal)",
  },
  'log-level': { type: 'string', env: 'VIVIM_BRIDGE_LOG_LEVEL', default: 'info', help: LogLevels.join(', ') },
  help: { type: 'boolean', env: '', help: 'show this help' },
}

export function helpText(): string {
  const rows = Object.entries(FLAGS).map(([name, f]) => {
    const flag = `--${name}${f.type === 'string' ? ' <value>' : ''}`
    const more = [f.multiple ? 'repeatable' : '', f.env ? `env ${f.env}` : '', f.default ? `default ${f.default}` : '']
    return `  ${flag.padEnd(32)} ${f.help}${more.some(Boolean) ? ` (${more.filter(Boolean).join('; ')})` : ''}`
  })
  return [
    'vivim-bridge: a libp2p peer of the VIVIM mesh, joined to an edge',
    '',
    'Usage: vivim-bridge [flags]',
    '',
    ...rows,
    '',
    'Logs are JSON lines on standard output; SIGINT or SIGTERM stops the bridge cleanly.',
    '',
  ].join('\n')
}

function bad(message: string): never {
  throw new VivimError(ErrorCode.BadRequest, message)
}

/** Reads the `vivim-bridge` command line and `VIVIM_BRIDGE_*` environment; throws `bad_request` with a usage hint. */
export function parseOptions(argv: string[], env: NodeJS.ProcessEnv, isTty = false): CliOptions {
  const { values } = parseArgs({
    args: argv,
    allowNegative: true,
    strict: true,
    options: Object.fromEntries(
      Object.entries(FLAGS).map(([name, f]) => [name, { type: f.type, ...(f.multiple ? { multiple: true } : {}) }]),
    ),
  })
  const text = (name: string): string | undefined => {
    const v = values[name]
    if (typeof v === 'string') return v
    const flag = FLAGS[name] as Flag
    return (flag.env ? env[flag.env] : undefined) ?? flag.default
  }
  const list = (name: string): string[] => {
    const v = values[name]
    if (Array.isArray(v)) return v.map(String)
    return (text(name) ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0)
  }
  const flag = (name: string): boolean => {
    const v = values[name]
    if (typeof v === 'boolean') return v
    const raw = (text(name) ?? 'false').toLowerCase()
    if (!['true', 'false', '1', '0'].includes(raw)) bad(`--${name} is true or false, not ${raw}`)
    return raw === 'true' || raw === '1'
  }
  const count = (name: string, max = Number.MAX_SAFE_INTEGER): number => {
    const n = Number(text(name))
    if (!Number.isSafeInteger(n) || n < 1 || n > max) {
      bad(`--${name} is a positive integer${max < Number.MAX_SAFE_INTEGER ? ` up to ${max}` : ''}`)
    }
    return n
  }
  const given = (name: string): boolean => {
    const variable = (FLAGS[name] as Flag).env
    return values[name] !== undefined || env[variable] !== undefined
  }
  const maxConnections = count('max-connections')
  const relayLimited = flag('relay-limit')
  if (!relayLimited && (given('relay-limit-duration') || given('relay-limit-data'))) {
    bad('--no-relay-limit relays without a limit: leave out --relay-limit-duration and --relay-limit-data')
  }
  const relayLimit = relayLimited
    ? { durationMs: count('relay-limit-duration', MAX_RELAY_DURATION_MS), dataBytes: count('relay-limit-data') }
    : null
  const level = text('log-level') as LogLevel
  if (!LogLevels.includes(level)) bad(`--log-level is one of ${LogLevels.join(', ')}`)
  const format = (text('log-format') ?? (isTty ? 'pretty' : 'json')) as LogFormat
  if (format !== 'json' && format !== 'pretty') bad("--log-format is 'json' or 'pretty'")
  const dataDir = text('data-dir') as string
  const edgeUrl = text('edge') ?? null
  if (edgeUrl !== null && !/^https?:\/\/[^/]/.test(edgeUrl)) bad(`--edge is http(s)://host[:port], not ${edgeUrl}`)
  const edgeTokens = list('token')
  for (const token of edgeTokens) {
    try {
      decodeCapabilityText(token)
    } catch (error) {
      bad(`--token is not a capability token: ${(error as Error).message}`)
    }
  }
  const topics = list('topic')
  // A pattern ends in `*` and matches any topic that starts with what comes before it.
  const badTopic = topics.find((t) => !(t.endsWith('*') || isTopic(t)))
  if (badTopic !== undefined) bad(`--topic is a topic name or a pattern ending in *, not ${badTopic}`)
  return {
    help: values.help === true,
    log: { format, level },
    init: {
      listen: list('listen'),
      announce: list('announce'),
      bootstrap: list('bootstrap'),
      mdns: flag('mdns'),
      maxConnections,
      relayLimit,
      dataDir: dataDir === 'memory' ? null : dataDir,
      edgeUrl,
      edgeTokens,
      topics,
      metrics: metricsAddress(text('metrics') as string),
    },
  }
}

function metricsAddress(value: string): { host: string; port: number } | null {
  if (value === 'off') return null
  const match = /^(.+):(\d{1,5})$/.exec(value)
  const port = Number(match?.[2])
  if (!match || port > 65_535) bad(`--metrics is host:port or off, not ${value}`)
  return { host: (match[1] as string).replace(/^\[(.*)\]$/, '$1'), port }
}
