/**
 * The environment of a benchmark run:
 *
 * - it always ends and never leaves a server behind: every registered child
 *   group is killed on exit, on SIGINT/SIGTERM/SIGHUP, on an uncaught error,
 *   and when the whole run passes its deadline;
 * - progress goes to stderr, so stdout holds only the report;
 * - how busy the machine is apart from the benchmark: a second process (a
 *   test run, a build) on a 2-core machine skews every figure, so each row
 *   waits a bounded time for the machine to calm down and reports what else ran;
 * - the machine, named in every report.
 */
import { availableParallelism, cpus, totalmem } from 'node:os'
import { killAllChildrenNow, sleep } from './child-process.ts'
import { machineBusyMs } from './process-cpu.ts'

/**
 * Stops every server child on exit, on a signal and on an uncaught error, and ends the run with
 * exit code 2 once it passes `deadlineMs` (none: a run bounded by its own loops).
 */
export function guardRun(deadlineMs?: number): void {
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
  if (deadlineMs === undefined) return
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

/**
 * The machine in one line: `2 × <CPU>, Node v22…, linux`, or with `memory`
 * (the topic benchmark's form) `2 cores (<CPU>), 24 GiB, Node v22…`.
 */
export function machineLine(form: 'cpus' | 'memory' = 'cpus'): string {
  const model = cpus()[0]?.model.trim() ?? 'unknown CPU'
  if (form === 'memory') {
    return `${availableParallelism()} cores (${model}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`
  }
  return `${cpus().length} × ${model}, Node ${process.version}, ${process.platform}`
}
