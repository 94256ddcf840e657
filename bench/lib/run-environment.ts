/**
 * The environment of a benchmark run:
 *
 * - it always ends and never leaves a server behind: every registered child
 *   group is killed on exit, on SIGINT/SIGTERM/SIGHUP, on an uncaught error,
 *   and when the whole run passes its deadline;
 * - progress goes to stderr, so stdout holds only the report;
 * - how busy the machine is apart from the benchmark: a second process (a
 *   test run, a build) on a 2-core machine skews every figure, so each row
 *   waits a bounded time for the machine to calm down and reports what else ran.
 */
import { readFileSync } from 'node:fs'
import { CLOCK_TICKS_PER_SECOND, killAllChildrenNow, sleep } from './child-processes.ts'

export function guardRun(deadlineMs: number): void {
  process.on('exit', killAllChildrenNow)
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      console.error(`\n${signal}: stopping the servers`)
      killAllChildrenNow()
      process.exit(130)
    })
  }
  const crash = (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error))
    killAllChildrenNow()
    process.exit(1)
  }
  process.on('uncaughtException', crash)
  process.on('unhandledRejection', crash)
  setTimeout(() => {
    console.error(`the run passed its ${Math.round(deadlineMs / 1000)} s deadline: stopping`)
    killAllChildrenNow()
    process.exit(2)
  }, deadlineMs).unref()
}

/** Progress goes to stderr so stdout holds only the report. */
export function progress(line: string): void {
  console.error(`[bench +${Math.round(performance.now() / 1000)}s] ${line}`)
}

/** Busy CPU time (ms, all cores, everything on the machine) from /proc/stat; null where there is none. */
export function machineBusyMs(): number | null {
  let line: string
  try {
    line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? ''
  } catch {
    return null
  }
  const ticks = line.trim().split(/\s+/).slice(1).map(Number)
  // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
  const busy = ticks.slice(0, 8).reduce((a, b, i) => (i === 3 || i === 4 ? a : a + b), 0)
  return (busy * 1000) / CLOCK_TICKS_PER_SECOND
}

const SAMPLE_MS = 500

/**
 * Waits until processes other than this one and the server use under
 * `threshold` cores over a sample, for at most `maxWaitMs`. Returns the last
 * sample (cores used by others), or null where /proc/stat is missing.
 */
export async function waitForQuiet(serverCpuMs: () => number | null, maxWaitMs: number, threshold = 0.3) {
  let other: number | null = null
  const deadline = Date.now() + maxWaitMs
  for (let i = 0; i < Math.ceil(maxWaitMs / SAMPLE_MS) + 1; i++) {
    const machine0 = machineBusyMs()
    const server0 = serverCpuMs() ?? 0
    const self0 = process.cpuUsage()
    await sleep(SAMPLE_MS)
    const machine1 = machineBusyMs()
    if (machine0 === null || machine1 === null) return null
    const self = process.cpuUsage(self0)
    const used = machine1 - machine0 - ((serverCpuMs() ?? 0) - server0) - (self.user + self.system) / 1000
    other = Math.max(0, used / SAMPLE_MS)
    if (other < threshold || Date.now() >= deadline) break
  }
  return other
}
