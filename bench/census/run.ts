/**
 * `npm run bench:census`: what each path costs in Durable Object requests.
 * Starts the census test's deployment (two federated instances in production
 * mode with the census on, a bridge linked to A; `census-deployment.ts`),
 * then for each operation (`operations.ts`) prepares what it needs, waits for
 * both censuses to settle, forgets them, runs the operation `--runs` times
 * one after another, waits again and reads both censuses. Each cell is the
 * requests per operation of one binding on one instance, with how many
 * distinct objects the runs reached (one: the same object every time; the
 * runs: a new one each time). `docs/scale.md` quotes the table.
 *
 *   npm run bench:census -- --runs 10   # a quicker run
 */
import { type CensusDeployment, startCensusDeployment } from '../../workers/federation/test/census-deployment.ts'
import { type CensusRow, readCensus, resetCensus, roleOf, totalOf } from '../../workers/federation/test/census-rows.ts'
import { settled, workloadOwner } from '../../workers/federation/test/census-workload.ts'
import { int, parseOptions } from '../lib/options.ts'
import { markdownTable } from '../lib/report-table.ts'
import { guardRun, progress } from '../lib/run-environment.ts'
import { type Operation, operations } from './operations.ts'

const options = parseOptions('node bench/census/run.ts [flags]   (npm run bench:census -- [flags])', {
  runs: int(20, 1, 1_000, 'operations of each path', { env: 'BENCH_RUNS' }),
})
// A hang guard for the whole run: the deployment is stopped in `finally`, or with the process group on a signal.
guardRun(20 * 60_000)

/** One instance's requests per operation, by binding (singletons by name), with the objects reached. */
function perOperation(rows: readonly CensusRow[], runs: number): string {
  const groups = new Map<string, { requests: number; objects: number }>()
  for (const row of rows) {
    const label = roleOf(row) === 'singleton' ? `${row.binding} \`${row.name}\`` : row.binding
    const group = groups.get(label) ?? { requests: 0, objects: 0 }
    groups.set(label, { requests: group.requests + row.requests, objects: group.objects + 1 })
  }
  const cells = [...groups.entries()]
    .sort((x, y) => y[1].requests - x[1].requests)
    .map(
      ([label, g]) => `${label} ${perRun(g.requests, runs)} (${g.objects === 1 ? '1 object' : `${g.objects} objects`})`,
    )
  return cells.length === 0 ? 'none' : cells.join('; ')
}

const perRun = (requests: number, runs: number) => String(Math.round((requests / runs) * 100) / 100)

async function measure(deployment: CensusDeployment, operation: Operation, runs: number): Promise<string[]> {
  const urls = [deployment.a.url, deployment.b.url]
  await operation.prepare?.(runs)
  await settled(urls)
  await Promise.all(urls.map(resetCensus))
  for (let i = 0; i < runs; i++) await operation.run(i)
  await settled(urls)
  const [atA, atB] = (await Promise.all(urls.map(readCensus))) as [CensusRow[], CensusRow[]]
  const total = totalOf(atA) + totalOf(atB)
  return [operation.path, perOperation(atA, runs), perOperation(atB, runs), perRun(total, runs)]
}

const deployment = await startCensusDeployment()
try {
  const rows: string[][] = []
  for (const operation of operations(deployment.a, deployment.b, workloadOwner)) {
    progress(operation.path)
    rows.push(await measure(deployment, operation, options.runs))
  }
  console.log(`Durable Object requests per operation, ${options.runs} runs each, ${new Date().toISOString()}:\n`)
  console.log(
    markdownTable(
      ['path', 'on A: requests per operation (objects reached)', 'on B', 'total per operation'],
      rows,
      'lllr',
    ),
  )
} finally {
  await deployment.stop()
}
process.exit(0)
