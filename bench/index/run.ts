/**
 * `npm run bench:index`: the indexer under load on the local edge
 * (`wrangler dev`, Miniflare). Loads `BENCH_RECORDS` (default 100,000)
 * public records signed by real identities, then measures search (several
 * kinds of query, and a second page through a cursor) and record reads
 * with a warm and a cold edge cache. The same searches run in the same run
 * against an anchor: SQLite FTS5 in this process over the same text
 * (`anchor.ts`); the same cold reads run against a bare Worker reading the
 * same KV keys (`kv-worker/`). Prints a table and writes the figures to
 * `bench/index/results.json`. Every loop is bounded; the edge is stopped on
 * exit, on error and on Ctrl-C.
 *
 * Both `wrangler dev` (the edge, from a deploy bundle, and the KV reader)
 * run with wrangler's local tracing left on, as when the published figures
 * were taken (`WRANGLER_QUIET_ENV`).
 *
 *   BENCH_RECORDS=5000 BENCH_QUERIES=100 npm run bench:index   # a quick run
 *   npm run bench:index -- --records 5000 --queries 100        # the same
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { encodeRecord, type Identity } from '@vivim/shared'
import { REPO_ROOT, sleep } from '../lib/child-process.ts'
import { bundleWorker, startSnapshotEdge, startWrangler, type WranglerServer } from '../lib/edge-process.ts'
import { int, parseOptions } from '../lib/options.ts'
import { markdownTable } from '../lib/report-table.ts'
import { guardRun } from '../lib/run-environment.ts'
import { WRANGLER_QUIET_ENV } from '../lib/wrangler-env.ts'
import { FtsAnchor } from './anchor.ts'
import { corpusRecord, identities, prng, word } from './corpus.ts'
import { type PhaseResult, round, runPhase } from './measure.ts'

const options = parseOptions('node bench/index/run.ts [flags]   (npm run bench:index -- [flags])', {
  records: int(100_000, 1, 10_000_000, 'records loaded', { env: 'BENCH_RECORDS' }),
  queries: int(400, 1, 100_000, 'queries per search kind', { env: 'BENCH_QUERIES' }),
  putConcurrency: int(32, 1, 1_000, 'PUTs in flight while loading', { env: 'BENCH_PUT_CONCURRENCY' }),
})
guardRun()
const RECORDS = options.records
const AUTHORS = Math.max(1, Math.round(RECORDS / 100))
const PUT_CONCURRENCY = options.putConcurrency
const QUERY_CONCURRENCY = 8
const QUERIES_PER_KIND = options.queries
const PAGE_SIZE = 20
const GET_CONCURRENCY = 16
/** Few enough that warming them and reading them again fits well within the edge cache's 60 s lifetime. */
const GETS = 1_000

type Edge = WranglerServer

/** The bare KV reader (`kv-worker/`), bundled now, on the edge's state directory (which stays the edge's). */
async function startKvReader(edge: Edge): Promise<Edge> {
  const dir = mkdtempSync(join(tmpdir(), 'vivim-bench-kv-read-'))
  const cleanup = () => rmSync(dir, { recursive: true, force: true })
  let source: string[]
  try {
    source = bundleWorker(join(import.meta.dirname, 'kv-worker'), dir)
  } catch (error) {
    cleanup()
    throw error
  }
  return startWrangler({ source, persistTo: edge.stateDir, env: WRANGLER_QUIET_ENV, cleanup })
}

/** `fetch`, retried (at most 3 times) when the connection fails, never when the edge answers. */
async function request(url: string, init?: RequestInit): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetch(url, init)
    } catch (error) {
      if (attempt >= 3) throw new Error(`${url}: ${String((error as Error).cause ?? error)}`)
      await sleep(200 * attempt)
    }
  }
}

async function ok(res: Response, what: string): Promise<Response> {
  if (!res.ok && res.status !== 304) throw new Error(`${what}: ${res.status} ${await res.text()}`)
  return res
}

const progress = (name: string, total: number) => (done: number, seconds: number) => {
  process.stdout.write(`\r${name}: ${done}/${total}, ${Math.round(done / seconds)}/s   `)
}

async function load(edge: Edge, anchor: FtsAnchor, authors: readonly Identity[], now: number): Promise<PhaseResult> {
  let failures = 0
  let retried = 0
  const phase = await runPhase(
    'PUT /v1/records (load)',
    RECORDS,
    PUT_CONCURRENCY,
    async (i) => {
      const record = corpusRecord(authors, i, now)
      anchor.add(record)
      const url = `${edge.origin}/v1/records${record.key}`
      const init = { method: 'PUT', body: encodeRecord(record), headers: { 'Content-Type': 'application/cbor' } }
      let status: number
      try {
        const res = await request(url, init)
        await res.arrayBuffer()
        status = res.status
      } catch (error) {
        // A connection dropped mid-answer: the write may have landed, so once again, where 'unchanged' (200) is as good.
        retried++
        const res = await request(url, init)
        await res.arrayBuffer()
        status = res.status === 200 ? 201 : res.status
        if (retried > 100) throw error
      }
      if (status !== 201) failures++
      if (failures > 100) throw new Error(`too many failed PUTs; last ${status}\n${edge.logTail()}`)
    },
    (done, seconds) => {
      process.stdout.write(`\rloading: ${done}/${RECORDS} records, ${Math.round(done / seconds)}/s   `)
    },
  )
  process.stdout.write('\n')
  return { ...phase, notes: { failures, retried } }
}

type Query = (random: () => number) => string

async function searches(edge: Edge, anchor: FtsAnchor, name: string, query: Query): Promise<PhaseResult[]> {
  const random = prng(name.length * 31)
  const queries = Array.from({ length: QUERIES_PER_KIND }, () => query(random))
  let results = 0
  let withNextPage = 0
  const phase = await runPhase(
    `search: ${name}`,
    queries.length,
    QUERY_CONCURRENCY,
    async (i) => {
      const res = await ok(
        await request(`${edge.origin}/v1/search?q=${encodeURIComponent(queries[i] ?? '')}`),
        'search',
      )
      const body = (await res.json()) as { results: unknown[]; cursor: string | null }
      results += body.results.length
      if (body.cursor) withNextPage++
    },
    progress(`search: ${name}`, queries.length),
  )
  let anchorResults = 0
  const anchored = await runPhase(`anchor (FTS5 in Node): ${name}`, queries.length, 1, async (i) => {
    anchorResults += anchor.search(queries[i] ?? '', PAGE_SIZE).keys.length
  })
  process.stdout.write('\n')
  return [
    { ...phase, notes: { meanResults: round(results / queries.length), withNextPage } },
    { ...anchored, notes: { meanResults: round(anchorResults / queries.length) } },
  ]
}

/** Second pages of common-word searches: on the edge through its cursor, on the anchor through its keyset. */
async function secondPages(edge: Edge, anchor: FtsAnchor): Promise<PhaseResult[]> {
  const cursors: { q: string; cursor: string }[] = []
  for (let rank = 0; rank < 40 && cursors.length < 20; rank++) {
    const res = await ok(await request(`${edge.origin}/v1/search?q=${word(rank)}`), 'search')
    const body = (await res.json()) as { cursor: string | null }
    if (body.cursor) cursors.push({ q: word(rank), cursor: body.cursor })
  }
  if (cursors.length === 0) throw new Error('no common word has a second page: is the corpus loaded?')
  const phase = await runPhase(
    'search: next page (cursor)',
    QUERIES_PER_KIND,
    QUERY_CONCURRENCY,
    async (i) => {
      const { q, cursor } = cursors[i % cursors.length] as (typeof cursors)[number]
      const url = `${edge.origin}/v1/search?q=${q}&cursor=${cursor}`
      await (await ok(await request(url), 'search page 2')).arrayBuffer()
    },
    progress('search: next page', QUERIES_PER_KIND),
  )
  const keysets = cursors.map(({ q }) => ({ q, next: anchor.search(q, PAGE_SIZE).next }))
  const anchored = await runPhase('anchor (FTS5 in Node): next page (keyset)', QUERIES_PER_KIND, 1, async (i) => {
    const { q, next } = keysets[i % keysets.length] as (typeof keysets)[number]
    anchor.search(q, PAGE_SIZE, next)
  })
  process.stdout.write('\n')
  return [
    { ...phase, notes: { distinctCursors: cursors.length } },
    { ...anchored, notes: { distinctKeysets: keysets.filter((k) => k.next).length } },
  ]
}

async function reads(
  edge: Edge,
  name: string,
  keys: readonly string[],
  headers: Record<string, string>,
): Promise<PhaseResult> {
  let hits = 0
  const phase = await runPhase(name, keys.length, GET_CONCURRENCY, async (i) => {
    const res = await ok(await request(`${edge.origin}/v1/records${keys[i]}`, { headers }), 'GET')
    await res.arrayBuffer()
    if (res.headers.get('x-vivim-cache') === 'hit') hits++
  })
  return { ...phase, notes: { cacheHits: hits } }
}

function print(results: readonly PhaseResult[]): void {
  const header = ['phase', 'requests', 'concurrency', 'per second', 'p50 ms', 'p99 ms', 'notes']
  const rows = results.map((r) => {
    const notes = Object.entries(r.notes)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')
    return [r.name, `${r.requests}`, `${r.concurrency}`, `${r.perSecond}`, `${r.p50Ms}`, `${r.p99Ms}`, notes]
  })
  console.log(`\n${markdownTable(header, rows, 'lrrrrrl')}`)
}

async function main(): Promise<void> {
  console.log(`starting the edge (wrangler dev) on ${cpus().length} cores…`)
  const edge = await startSnapshotEdge({ env: WRANGLER_QUIET_ENV })
  try {
    const authors = identities(AUTHORS, 1)
    const now = Date.now()
    const anchor = new FtsAnchor()
    const results: PhaseResult[] = [await load(edge, anchor, authors, now)]
    const pick = (r: () => number, lo: number, hi: number) => word(lo + Math.floor(r() * (hi - lo)))
    const kinds: [string, Query][] = [
      ['common word (rank 0-9)', (r) => pick(r, 0, 10)],
      ['mid word (rank 100-499)', (r) => pick(r, 100, 500)],
      ['rare word (rank 2000-4999)', (r) => pick(r, 2000, 5000)],
      ['two words (common + mid)', (r) => `${pick(r, 0, 10)} ${pick(r, 100, 500)}`],
      ['no match', (r) => `zz${Math.floor(r() * 1e9)}`],
    ]
    for (const [name, query] of kinds) results.push(...(await searches(edge, anchor, name, query)))
    results.push(...(await secondPages(edge, anchor)))
    const random = prng(7)
    const sample = (n: number) =>
      Array.from({ length: n }, () => corpusRecord(authors, Math.floor(random() * RECORDS), now).key)
    const warm = sample(GETS)
    await reads(edge, 'GET record (warming)', warm, {})
    results.push(await reads(edge, 'GET record, warm cache', warm, {}))
    // The bare KV reader first, then the edge on the same keys, so the edge never reads a key after the anchor did less.
    const cold = sample(GETS)
    const kvReader = await startKvReader(edge)
    try {
      results.push(await reads(kvReader, 'anchor (bare Worker, KV get): GET record', cold, {}))
      results.push(await reads(kvReader, 'anchor (bare Worker, KV get): GET record, the warm set', warm, {}))
    } finally {
      await kvReader.stop()
    }
    results.push(await reads(edge, 'GET record, cold cache (KV)', cold, { 'Cache-Control': 'no-cache' }))
    print(results)
    const out = { date: new Date().toISOString(), records: RECORDS, authors: AUTHORS, cores: cpus().length, results }
    writeFileSync(join(REPO_ROOT, 'bench', 'index', 'results.json'), `${JSON.stringify(out, null, 2)}\n`)
  } finally {
    await edge.stop()
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error)
  process.exit(1)
})
