/**
 * Measuring a phase: a bounded number of requests run by a fixed number of
 * concurrent workers, each request's latency kept, and the phase summed up
 * as throughput and latency percentiles.
 */
import { performance } from 'node:perf_hooks'
import { indexPercentile } from '../lib/stats.ts'

export interface PhaseResult {
  readonly name: string
  readonly requests: number
  readonly concurrency: number
  readonly seconds: number
  readonly perSecond: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly notes: Record<string, number | string>
}

/**
 * Runs `task(i)` for i in [0, count) on `concurrency` workers; a task that
 * throws aborts the phase. `onProgress` is called at most once a second.
 */
export async function runPhase(
  name: string,
  count: number,
  concurrency: number,
  task: (i: number) => Promise<void>,
  onProgress?: (done: number, seconds: number) => void,
): Promise<Omit<PhaseResult, 'notes'>> {
  const latencies = new Float64Array(count)
  let next = 0
  let done = 0
  let lastReport = 0
  const started = performance.now()
  const worker = async () => {
    while (next < count) {
      const i = next++
      const t0 = performance.now()
      await task(i)
      latencies[i] = performance.now() - t0
      done++
      const now = performance.now()
      if (onProgress && now - lastReport >= 1000) {
        lastReport = now
        onProgress(done, (now - started) / 1000)
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker))
  const seconds = (performance.now() - started) / 1000
  const sorted = [...latencies].sort((a, b) => a - b)
  return {
    name,
    requests: count,
    concurrency,
    seconds: round(seconds),
    perSecond: round(count / seconds),
    p50Ms: round(indexPercentile(sorted, 50)),
    p99Ms: round(indexPercentile(sorted, 99)),
  }
}

export function round(n: number): number {
  return Math.round(n * 100) / 100
}
