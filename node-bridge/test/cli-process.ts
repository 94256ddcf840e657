/**
 * `vivim-bridge` as a child process, as an operator runs it: its JSON log
 * lines collected as they come, its exit code, and its metrics read over
 * HTTP. The CLI tests and the crash test start it this way, so a SIGKILL
 * is a real crash of a real process.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

const CLI = join(import.meta.dirname, '..', 'src', 'cli.ts')

/** A running (or finished) `vivim-bridge`. */
export interface CliRun {
  child: ChildProcess
  /** Each line printed on standard output: a log object, or `{ text }` for a line that is not JSON. */
  lines: Record<string, unknown>[]
  /** The exit code, or null when a signal ended it. */
  exited: Promise<number | null>
}

/** Starts `vivim-bridge` with `args`, and `env` over this process's environment. */
export function runCli(args: string[], env: Record<string, string> = {}): CliRun {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const lines: Record<string, unknown>[] = []
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>)
    } catch {
      lines.push({ text: line })
    }
  })
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)))
  return { child, lines, exited }
}

/** The value of a metric without labels in Prometheus text, or null when it is not there. */
export async function readMetric(url: string, name: string): Promise<number | null> {
  const text = await (await fetch(url)).text()
  const line = text.split('\n').find((l) => l.startsWith(`${name} `))
  return line === undefined ? null : Number(line.slice(name.length + 1))
}
