/**
 * One log line: a JSON object on the console with fixed keys first, so a log
 * search (Workers Logs, `wrangler tail`, a collector) can filter every part
 * of the edge the same way:
 *
 *   { "level": "warn", "msg": "federation outbox full", ...fields }
 *
 * - `level`: `error`, `warn` or `info`, also the console method used;
 * - `msg`: a fixed phrase naming the event (never interpolated, so it groups);
 * - then the event's own fields; whatever is under `error` is written as its
 *   message (an `Error`'s `message`, anything else as a string).
 *
 * @example
 * ```ts
 * import { logLine } from '@vivim/shared'
 * logLine('warn', 'federation gap', { domain, from: 10, to: 19 })
 * ```
 */

export type LogLevel = 'error' | 'warn' | 'info'

// Every runtime shared/ runs on has a console; the package compiles without any platform's types.
declare const console: Readonly<Record<LogLevel, (line: string) => void>>

/** Writes one structured line; `fields` never override `level` or `msg`. */
export function logLine(level: LogLevel, msg: string, fields: Readonly<Record<string, unknown>> = {}): void {
  const line: Record<string, unknown> = { level, msg }
  for (const [key, value] of Object.entries(fields)) if (key !== 'level' && key !== 'msg') line[key] = value
  if (fields.error instanceof Error) line.error = fields.error.message
  else if (fields.error !== undefined) line.error = String(fields.error)
  console[level](JSON.stringify(line))
}
