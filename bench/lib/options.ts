/**
 * Command-line options of every benchmark, declared once as a table of
 * specs: each names its flag, what it takes, its bounds, its default and its
 * line of `--help`, and the parsed values come back typed from that table
 * (`OptionValues`). A bad value stops the run with the usage (exit 64)
 * before anything starts; `--help` prints the usage and exits 0.
 *
 * @example
 * ```ts
 * const o = parseOptions('node bench/x.ts [flags]', {
 *   rate: int(2000, 1, 100_000, 'offered updates/s'),
 *   durationS: int(10, 1, 600, 'measured seconds', { flag: 'duration', arg: 'S' }),
 * })
 * o.rate // number
 * ```
 */
import { parseArgs } from 'node:util'

interface Common {
  /** Its line in `--help` (may hold `\n` for more lines); the default is appended. */
  help: string
  /** The flag without `--`; the key kebab-cased by default (`quietWaitS` takes `--quiet-wait-s`). */
  flag?: string
  /** What the flag takes, in `--help` (`N`, `a,b`, `URL`). */
  arg?: string
  /** An environment variable read when the flag is absent. */
  env?: string
}
/** An integer in `min..max` (`1_000` may be written with underscores). */
export interface IntSpec extends Common {
  type: 'int'
  default: number
  min: number
  max: number
}
/** A finite number in `min..max`. */
export interface NumberSpec extends Common {
  type: 'number'
  default: number
  min: number
  max: number
}
/** A comma-separated list of 1 to 20 integers, each in `min..max`. */
export interface IntsSpec extends Common {
  type: 'ints'
  default: readonly number[]
  min: number
  max: number
}
/** Any text, or text that must match `pattern` (`example` shows what it should look like). */
export interface StringSpec extends Common {
  type: 'string'
  default: string | null
  pattern?: RegExp
  example?: string
}
/** A comma-separated list of some of `choices`, in the order given, each once. */
export interface ListSpec<C extends string = string> extends Common {
  type: 'list'
  choices: readonly C[]
  default: readonly C[]
}
/** Present or not. */
export interface FlagSpec extends Common {
  type: 'flag'
}
export type OptionSpec = IntSpec | NumberSpec | IntsSpec | StringSpec | ListSpec | FlagSpec
export type OptionSpecs = Readonly<Record<string, OptionSpec>>

type ValueOf<S> = S extends IntSpec | NumberSpec
  ? number
  : S extends IntsSpec
    ? number[]
    : S extends ListSpec<infer C>
      ? C[]
      : S extends FlagSpec
        ? boolean
        : S extends { default: string }
          ? string
          : string | null
/** The parsed values of `S`, one per key, typed from the specs. */
export type OptionValues<S extends OptionSpecs> = { -readonly [K in keyof S]: ValueOf<S[K]> }

/** Where a flag differs from its key, what it takes in `--help`, or an environment variable it falls back on. */
type More = Pick<OptionSpec, 'flag' | 'arg' | 'env'>

/** A builder of options of `type` that take values in `min..max`. */
function ranged<T extends 'int' | 'number' | 'ints', V>(type: T) {
  return (value: V, min: number, max: number, help: string, more: More = {}) => ({
    type,
    default: value,
    min,
    max,
    help,
    ...more,
  })
}
/** An integer option in `min..max`. */
export const int = ranged<'int', number>('int')
/** A number option in `min..max`. */
export const num = ranged<'number', number>('number')
/** A list of integers, each in `min..max`. */
export const ints = ranged<'ints', readonly number[]>('ints')
/** A text option; null: none by default. */
export const text = <D extends string | null>(
  value: D,
  help: string,
  more: Omit<Partial<StringSpec>, 'type' | 'default'> = {},
): StringSpec & { default: D } => ({ type: 'string', default: value, help, ...more })
/** Some of `choices`, all by default. */
export const list = <C extends string>(choices: readonly C[], help: string): ListSpec<C> => ({
  type: 'list',
  choices,
  default: choices,
  help,
})
/** A flag without a value. */
export const flag = (help: string): FlagSpec => ({ type: 'flag', help })

const seconds = (flag: string) => ({ flag, arg: 'S' })

/**
 * The windows of a load row, `--duration`, `--warmup`, `--drain` and `--quiet-wait` (seconds), with
 * their defaults and their largest values.
 */
export function rowWindow(defaults: RowWindow, largest: RowWindow) {
  const drain = 'longest wait after the row for every message to arrive'
  const quiet = 'longest wait before a row for other processes to go idle'
  return {
    durationS: int(defaults.duration, 1, largest.duration, 'measured seconds per row', seconds('duration')),
    warmupS: int(defaults.warmup, 0, largest.warmup, 'warm-up seconds before it', seconds('warmup')),
    drainS: int(defaults.drain, 1, largest.drain, drain, seconds('drain')),
    quietWaitS: int(defaults.quietWait, 0, largest.quietWait, quiet, seconds('quiet-wait')),
  }
}
interface RowWindow {
  duration: number
  warmup: number
  drain: number
  quietWait: number
}

const flagOf = (key: string, spec: OptionSpec) => spec.flag ?? key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)

function integer(text: string, flag: string, min: number, max: number): number {
  const n = Number(text.trim().replaceAll('_', ''))
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${flag} must be an integer in ${min}..${max}`)
  return n
}

function convert(spec: OptionSpec, flag: string, text: string): unknown {
  switch (spec.type) {
    case 'int':
      return integer(text, flag, spec.min, spec.max)
    case 'number': {
      const n = Number(text)
      if (!Number.isFinite(n) || n < spec.min || n > spec.max)
        throw new Error(`--${flag} must be in ${spec.min}..${spec.max}`)
      return n
    }
    case 'ints': {
      const items = text.split(',').map((item) => integer(item, flag, spec.min, spec.max))
      if (items.length > 20) throw new Error(`--${flag} takes 1 to 20 values`)
      return items
    }
    case 'list': {
      const items = text.split(',').map((item) => item.trim())
      const bad = items.filter((item) => !spec.choices.includes(item))
      if (bad.length > 0) throw new Error(`--${flag} takes some of ${spec.choices.join(',')}; got "${bad.join(',')}"`)
      return [...new Set(items)]
    }
    case 'string':
      if (spec.pattern !== undefined && !spec.pattern.test(text)) {
        throw new Error(`--${flag} must look like ${spec.example ?? spec.pattern.source}`)
      }
      return text
    case 'flag':
      return true
  }
}

/** Parses `argv` against `specs`; null when `--help` was given; throws on an unknown flag or a bad value. */
export function readOptions<S extends OptionSpecs>(specs: S, argv: readonly string[]): OptionValues<S> | null {
  const flags: Record<string, { type: 'string' | 'boolean' }> = { help: { type: 'boolean' } }
  for (const [key, spec] of Object.entries(specs))
    flags[flagOf(key, spec)] = { type: spec.type === 'flag' ? 'boolean' : 'string' }
  const { values } = parseArgs({ args: [...argv], options: flags, strict: true, allowPositionals: false })
  if (values.help === true) return null
  const out: Record<string, unknown> = {}
  for (const [key, spec] of Object.entries(specs)) {
    const flag = flagOf(key, spec)
    const given = values[flag] ?? (spec.env === undefined ? undefined : process.env[spec.env])
    if (given === undefined)
      out[key] = spec.type === 'flag' ? false : Array.isArray(spec.default) ? [...spec.default] : spec.default
    else out[key] = convert(spec, flag, String(given))
  }
  return out as OptionValues<S>
}

/** The `--help` text: `usage: <synopsis>`, then a line per option with its default. */
export function usageOf(synopsis: string, specs: OptionSpecs): string {
  const lines = [`usage: ${synopsis}`]
  for (const [key, spec] of Object.entries(specs)) {
    const arg = spec.arg ?? { int: 'N', number: 'N', ints: 'a,b', list: 'a,b', string: 'X', flag: '' }[spec.type]
    const head = `  --${flagOf(key, spec)}${arg === '' ? '' : ` ${arg}`}`
    const value = spec.type === 'flag' || spec.default === null ? '' : String(spec.default)
    const fallback = spec.env === undefined ? '' : `${spec.env}, or `
    const [first = '', ...more] = `${spec.help}${value === '' ? '' : ` (${fallback}${value})`}`.split('\n')
    lines.push(`${head.padEnd(21)} ${first}`, ...more.map((line) => `${' '.repeat(22)}${line}`))
  }
  return lines.join('\n')
}

/** `readOptions` of this process's arguments; prints the usage and exits on `--help` (0) or a bad flag (64). */
export function parseOptions<S extends OptionSpecs>(
  synopsis: string,
  specs: S,
  argv: readonly string[] = process.argv.slice(2),
): OptionValues<S> {
  let values: OptionValues<S> | null
  try {
    values = readOptions(specs, argv)
  } catch (error) {
    console.error(`${(error as Error).message}\n${usageOf(synopsis, specs)}`)
    process.exit(64)
  }
  if (values === null) {
    console.log(usageOf(synopsis, specs))
    process.exit(0)
  }
  return values
}
