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
    default: '/ip4/0.0.0.0/tcp/4001,/ip4/0.0.0.0/tcp/4002/ws',
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
    return `  ${flag.padEnd(28)} ${f.help}${more.some(Boolean) ? ` (${more.filter(Boolean).join('; ')})` : ''}`
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
  const maxConnections = Number(text('max-connections'))
  if (!Number.isSafeInteger(maxConnections) || maxConnections < 1) bad('--max-connections is a positive integer')
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
