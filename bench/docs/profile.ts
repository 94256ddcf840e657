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
import { parseArgs } from 'node:util'
import { freePort, killAllChildrenNow, REPO_ROOT } from './child-processes.ts'
import { parseLoadOptions } from './cli-options.ts'
import { InspectorSession } from './inspector-session.ts'
import { bucketProfile, type CpuProfile } from './profile-buckets.ts'
import { machineLine } from './report-table.ts'
import { AFTER_TREE, bundleTree, prepareAfterTree, startEdge } from './rules-edges.ts'
import { runRulesRow } from './rules-row.ts'
import { progress } from './run-environment.ts'
import { count, ms } from './stats.ts'

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '2000' },
    duration: { type: 'string', default: '15' },
    profile: { type: 'string', default: '10' },
    'profile-after': { type: 'string', default: '5' },
    'interval-us': { type: 'string', default: '500' },
  },
})
const rate = Number(values.rate)
const profileS = Number(values.profile)
const afterS = Number(values['profile-after'])
const load = parseLoadOptions(['--duration', values.duration, '--quiet-wait', '5']) ?? process.exit(64)

const commit = prepareAfterTree(AFTER_TREE)
const work = mkdtempSync(join(tmpdir(), 'vivim-bench-profile-'))
try {
  progress(`bundling ${commit.slice(0, 7)} (${AFTER_TREE})`)
  const bundle = bundleTree(AFTER_TREE, join(work, 'after'))
  const inspectorPort = await freePort()
  const edge = await startEdge('after', commit, bundle, inspectorPort)
  try {
    const warm = { ...load, warmupS: 1, durationS: 3, quietWaitS: 0 }
    await runRulesRow(edge, [edge], warm, 500, 0)
    const session = await InspectorSession.connect(inspectorPort)
    await session.call('Profiler.enable')
    await session.call('Profiler.setSamplingInterval', { interval: Number(values['interval-us']) })
    progress(`${count(rate)}/s for ${load.durationS} s; profiling ${profileS} s from ${afterS} s in`)
    const profiled = (async () => {
      await new Promise((done) => setTimeout(done, afterS * 1000))
      const cpuFrom = edge.cpuMs() ?? 0
      await session.call('Profiler.start')
      await new Promise((done) => setTimeout(done, profileS * 1000))
      const { profile } = await session.call<{ profile: CpuProfile }>('Profiler.stop')
      return { profile, edgeCores: ((edge.cpuMs() ?? 0) - cpuFrom) / (profileS * 1000) }
    })()
    const row = await runRulesRow(edge, [edge], { ...load, quietWaitS: 0 }, rate, 1)
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
      `Profile: ${(b.totalMs / 1000).toFixed(1)} s of the isolate's time sampled every ${values['interval-us']} µs; raw: ${file}`,
      '',
      '| bucket | self ms | share |',
      '| --- | ---: | ---: |',
      ...b.buckets.map((x) => `| ${x.bucket} | ${count(Math.round(x.ms))} | ${pct(x.share)} |`),
      '',
      '| function | source | bucket | self ms | share |',
      '| --- | --- | --- | ---: | ---: |',
      ...b.functions.map(
        (f) => `| ${f.name} | ${f.where} | ${f.bucket} | ${count(Math.round(f.ms))} | ${pct(f.share)} |`,
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
