/**
 * The census under a mixed workload (`docs/scale.md`): two federated
 * instances in production mode, a bridge linked to A, and members with real
 * capability tokens working over 21 documents and 11-12 topics per instance,
 * with records, searches, signaling and a revocation (`census-workload.ts`).
 * The workload runs twice, the second phase with twice the members (so twice
 * the connects, edits, messages, records, searches and signaling; one
 * revocation each), and each instance's census is read after each phase.
 *
 * What it asserts, of each phase on each instance:
 *   - no object other than a resource's own room or an index shard handles
 *     more than `SHARE_BOUND` of the requests. The load is spread over about
 *     forty rooms, each of which handles a few percent; an object every
 *     request of one kind passes through (each connect's, each record
 *     write's, each signaling message's) takes that kind's whole share
 *     instead, which in this mix is well above the bound;
 *   - no singleton (an object named by a plain word, `hub`, whatever its
 *     binding) handles more requests in the second phase than in the first,
 *     give or take `GROWTH_SLACK`: a singleton's load must not grow with the
 *     load, or it is what breaks first.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CensusDeployment, grantText, startCensusDeployment } from './census-deployment.ts'
import {
  addCensus,
  bindingsTable,
  type CensusRow,
  isOwn,
  othersTable,
  readCensus,
  resetCensus,
  roleOf,
  share,
  totalOf,
} from './census-rows.ts'
import { bridgedTopic, closeSide, openSides, runPhase, type Side, settled, workloadOwner } from './census-workload.ts'

/** At most this share of an instance's requests for any object that is not a resource's own room or shard. */
const SHARE_BOUND = 0.05
/** Requests a singleton may handle beyond its first-phase count in the second (an alarm, a late close). */
const GROWTH_SLACK = 2
const MEMBERS = [6, 12] as const
/** The bindings (by prefix) every path of the mix reaches on both instances; A also reaches its bridge's. */
const PATHS = [
  'DOC_ROOM',
  'TOPIC_ROOM',
  'INDEX_SHARD',
  'REVOCATIONS',
  'FEDERATION_OUTBOX',
  'FEDERATION_INBOX',
  'SIGNALING_ROOM',
]

let deployment: CensusDeployment | undefined
let sides: readonly Side[] = []

beforeAll(async () => {
  const topic = bridgedTopic(workloadOwner)
  deployment = await startCensusDeployment([topic], (did) => [
    grantText(workloadOwner, did, `topic:${topic}`, ['read', 'write']),
  ])
}, 180_000)

afterAll(async () => {
  for (const side of sides) closeSide(side)
  await deployment?.stop()
})

/** Each instance's census, then forgotten, so the next read counts only what came after. */
async function takeCensus(urls: readonly string[]): Promise<CensusRow[][]> {
  await settled(urls)
  const rows = await Promise.all(urls.map(readCensus))
  await Promise.all(urls.map(resetCensus))
  return rows
}

/** Each object over the share bound in a phase, and each singleton that handled more in the second phase. */
function violations(label: string, phases: readonly CensusRow[][]): string[] {
  const found: string[] = []
  for (const [p, rows] of phases.entries()) {
    const total = totalOf(rows)
    for (const r of rows.filter((row) => !isOwn(row) && row.requests > SHARE_BOUND * total)) {
      found.push(`${label}, phase ${p + 1}: ${r.binding} ${r.name} (${roleOf(r)}) ${share(r.requests, total)}`)
    }
  }
  const [first = [], second = []] = phases
  for (const r of second.filter((row) => roleOf(row) === 'singleton')) {
    const before = first.find((row) => row.binding === r.binding && row.name === r.name)?.requests ?? 0
    if (r.requests > before + GROWTH_SLACK)
      found.push(`${label}: singleton ${r.binding} ${r.name} grew ${before} → ${r.requests}`)
  }
  return found
}

/** The summary the test prints: requests by binding, the busiest objects that are not rooms or shards, the singletons. */
function report(label: string, setup: CensusRow[], phases: CensusRow[][]): void {
  const key = (r: CensusRow) => `${r.binding}: ${r.name}`
  const singletons = [
    ...new Set(
      phases
        .flat()
        .filter((r) => roleOf(r) === 'singleton')
        .map(key),
    ),
  ]
  const countIn = (rows: CensusRow[], name: string) => rows.find((r) => key(r) === name)?.requests ?? 0
  const all = addCensus(...phases)
  console.log(
    [
      `## Instance ${label}: setup ${totalOf(setup)} requests; phases ${phases.map((p) => totalOf(p)).join(' and ')}`,
      '',
      bindingsTable(all),
      '',
      othersTable(all),
      '',
      ...singletons.map((s) => `singleton ${s}: ${phases.map((p) => countIn(p, s)).join(' then ')} requests`),
    ].join('\n'),
  )
}

describe('the census under a mixed workload', () => {
  it('no object but a resource’s own room or shard takes more than a bounded share, and no singleton grows', async () => {
    const { a, b } = deployment as CensusDeployment
    const urls = [a.url, b.url]
    sides = await openSides(a, b)
    const setup = await takeCensus(urls)
    const phases: CensusRow[][][] = []
    for (const [i, members] of MEMBERS.entries()) {
      await runPhase(sides as [Side, Side], i + 1, members)
      phases.push(await takeCensus(urls))
    }
    const found: string[] = []
    for (const [s, label] of ['A', 'B'].entries()) {
      const [first = [], second = []] = phases.map((phase) => phase[s] ?? [])
      report(label, setup[s] ?? [], [first, second])
      // Every path of the mix reached this instance: a bound met by missing traffic would prove nothing.
      const bindings = [...new Set(first.map((r) => r.binding))]
      for (const path of [...PATHS, ...(label === 'A' ? ['BRIDGE'] : [])]) {
        expect(
          bindings.some((binding) => binding.startsWith(path)),
          `${label}: ${path}`,
        ).toBe(true)
      }
      expect(totalOf(second), `${label}: the second phase is the larger`).toBeGreaterThan(totalOf(first) * 1.5)
      found.push(...violations(label, [first, second]))
    }
    expect(found).toEqual([])
  }, 300_000)
})
