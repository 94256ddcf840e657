/**
 * The bridge's logs: one JSON object a line (`{ time, level, msg, …fields }`)
 * for collectors, or a readable line for a person at a terminal. Messages
 * are short fixed phrases and the details ride in fields, so logs can be
 * searched by message.
 *
 * @example
 * ```ts
 * const log = createLogger({ format: 'json', level: 'info' })
 * log.info('edge link open', { url: 'http://127.0.0.1:8787' })
 * // {"time":"2026-12-01T19:40:00.000Z","level":"info","msg":"edge link open","url":"http://127.0.0.1:8787"}
 * ```
 */
import type { Writable } from 'node:stream'

export const LogLevels = ['debug', 'info', 'warn', 'error'] as const
export type LogLevel = (typeof LogLevels)[number]
export type LogFormat = 'json' | 'pretty'
export type LogFields = Record<string, unknown>

/** Structured logging: a message and fields, one line each. */
export interface Logger {
  /** Detail for debugging. */
  debug(msg: string, fields?: LogFields): void
  /** Normal operation. */
  info(msg: string, fields?: LogFields): void
  /** Something refused or retried. */
  warn(msg: string, fields?: LogFields): void
  /** A failure. */
  error(msg: string, fields?: LogFields): void
}

/** The format and least level of a logger. */
export interface LoggerInit {
  format: LogFormat
  level: LogLevel
  /** Where lines go; standard output by default. */
  out?: Writable
}

const COLORS: Record<LogLevel, string> = { debug: '\x1b[90m', info: '\x1b[36m', warn: '\x1b[33m', error: '\x1b[31m' }

function plain(value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message, ...(value as object) }
  if (typeof value === 'bigint') return value.toString()
  return value
}

/** A logger writing JSON lines (or colored text for a terminal) at `level` and above. */
export function createLogger(init: LoggerInit): Logger {
  const out = init.out ?? process.stdout
  const threshold = LogLevels.indexOf(init.level)
  const write = (level: LogLevel, msg: string, fields: LogFields = {}) => {
    if (LogLevels.indexOf(level) < threshold) return
    const time = new Date().toISOString()
    const entries = Object.entries(fields).map(([k, v]) => [k, plain(v)] as const)
    if (init.format === 'json') {
      out.write(`${JSON.stringify({ time, level, msg, ...Object.fromEntries(entries) })}\n`)
      return
    }
    const details = entries.map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ')
    out.write(`${time.slice(11, 23)} ${COLORS[level]}${level.padEnd(5)}\x1b[0m ${msg}${details ? ` ${details}` : ''}\n`)
  }
  return {
    debug: (msg, fields) => write('debug', msg, fields),
    info: (msg, fields) => write('info', msg, fields),
    warn: (msg, fields) => write('warn', msg, fields),
    error: (msg, fields) => write('error', msg, fields),
  }
}

/** A logger that drops everything (the default of a bridge built in code). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} }
