/**
 * A CPU profile of the document room under the rules benchmark's load
 * (trust checks on every update): the edge of HEAD (a clean worktree,
 * bundled as `rules.ts` does) on `wrangler dev` with a known inspector port,
 * an unreported warm-up row at 500/s, then one row at `--rate` (2,000)
 * updates/s for `--duration` (15) s from 20 senders with their own
 * identities, during which the inspector's `Profiler` samples the Worker's
 * isolate for `--profile` (10) s, starting `--profile-after` (5) s into the
 * row (after connecting and the row's 2 s warm-up). Prints the self time
 * by bucket (room code, Yjs, runtime, idle) and the top functions, mapped
 * through the bundle's source map; writes the raw profile to bench/results/.
 *
 *   node bench/docs/profile.ts [--rate 2000] [--duration 15] [--profile 10] [--profile-after 5]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, killAllChildrenNow, REPO_ROOT, sleep } from '../lib/child-process.ts'
import { bundleWorker } from '../lib/edge-process.ts'
import { int, parseOptions, readOptions } from '../lib/options.ts'
import { count, markdownTable, ms } from '../lib/report-table.ts'
import { machineLine, progress } from '../lib/run-environment.ts'
import { ROW_OPTIONS } from './cli-options.ts'
import { InspectorSession } from './inspector-session.ts'
import { bucketProfile, type CpuProfile } from './profile-buckets.ts'
import { AFTER_TREE, prepareAfterTree, startEdge } from './rules-edges.ts'
import { runRulesRow } from './rules-row.ts'

const values = parseOptions('node bench/docs/profile.ts [flags]', {
  rate: int(2000, 1, 100_000, 'offered updates/s of the profiled row'),
  durationS: int(15, 1, 600, 'seconds of the row', { flag: 'duration', arg: 'S' }),
  profileS: int(10, 1, 600, 'seconds profiled', { flag: 'profile', arg: 'S' }),
  afterS: int(5, 0, 600, 'seconds into the row the profile starts (after connecting and its 2 s warm-up)', {
    flag: 'profile-after',
    arg: 'S',
  }),
  intervalUs: int(500, 50, 100_000, 'sampling interval of the profiler, µs'),
})
const { rate, profileS, afterS } = values
const load = readOptions(ROW_OPTIONS, ['--duration', `${values.durationS}`, '--quiet-wait', '5']) ?? process.exit(64)

const commit = prepareAfterTree(AFTER_TREE)
const work = mkdtempSync(join(tmpdir(), 'vivim-bench-profile-'))
try {
  progress(`bundling ${commit.slice(0, 7)} (${AFTER_TREE})`)
  const bundle = bundleWorker(AFTER_TREE, join(work, 'after'))
  const inspectorPort = await freePort()
  const edge = await startEdge('after', commit, bundle, inspectorPort)
  try {
    const warm = { ...load, warmupS: 1, durationS: 3, quietWaitS: 0 }
    await runRulesRow(edge, warm, 500, 0)
    const session = await InspectorSession.connect(inspectorPort)
    await session.call('Profiler.enable')
    await session.call('Profiler.setSamplingInterval', { interval: values.intervalUs })
    progress(`${count(rate)}/s for ${load.durationS} s; profiling ${profileS} s from ${afterS} s in`)
    const profiled = (async () => {
      await sleep(afterS * 1000)
      const cpuFrom = edge.cpuMs() ?? 0
      await session.call('Profiler.start')
      await sleep(profileS * 1000)
      const { profile } = await session.call<{ profile: CpuProfile }>('Profiler.stop')
      return { profile, edgeCores: ((edge.cpuMs() ?? 0) - cpuFrom) / (profileS * 1000) }
    })()
    const row = await runRulesRow(edge, { ...load, quietWaitS: 0 }, rate, 1)
    const { profile, edgeCores } = await profiled
    session.close()
    const results = join(REPO_ROOT, 'bench', 'results')
    mkdirSync(results, { recursive: true })
    const file = join(results, `docs-profile-${Date.now().toString(36)}.cpuprofile`)
    writeFileSync(file, JSON.stringify(profile))
    const b = bucketProfile(profile, `${bundle[0]}.map`, 'index.js')
    const pct = (x: number) => `${(100 * x).toFixed(1)}%`
    const out = [
      `## Document room CPU profile at ${count(rate)} updates/s (trust checks on)`,
      '',
      `Edge ${commit.slice(0, 7)} on wrangler dev; ${load.clients} senders with their own identities + 1 observer on a conversation:<uuid> document. Machine: ${machineLine()}.`,
      `Row: delivered ${count(row.deliveredPerS)}/s, p50 ${ms(row.latency.p50)} ms, p99 ${ms(row.latency.p99)} ms, ${row.complete ? 'every update delivered' : `INCOMPLETE (${row.error ?? 'missing updates'})`}; edge CPU ${row.serverCores?.toFixed(2) ?? 'n/a'} cores (${edgeCores.toFixed(2)} while profiling); other processes ${row.otherCores?.toFixed(2) ?? 'n/a'} cores.`,
      `Profile: ${(b.totalMs / 1000).toFixed(1)} s of the isolate's time sampled every ${values.intervalUs} µs; raw: ${file}`,
      '',
      markdownTable(
        ['bucket', 'self ms', 'share'],
        b.buckets.map((x) => [x.bucket, count(Math.round(x.ms)), pct(x.share)]),
      ),
      '',
      markdownTable(
        ['function', 'source', 'bucket', 'self ms', 'share'],
        b.functions.map((f) => [f.name, f.where, f.bucket, count(Math.round(f.ms)), pct(f.share)]),
        'lllrr',
      ),
    ]
    console.log(out.join('\n'))
  } finally {
    await edge.stop()
  }
} finally {
  killAllChildrenNow()
  rmSync(work, { recursive: true, force: true })
}
