/**
 * The workerd rows of `bench/crypto/ed25519.ts`: starts `workerd-verify/`
 * under `wrangler dev` (its state in a fresh temporary directory, metrics
 * and the Cloudflare fetch off), checks the strict-rule vectors of
 * `shared/fixtures/ed25519-strict.json` inside workerd, then has the Worker
 * verify N signatures in one request per batch.
 *
 * workerd's clocks stand still while a request computes, so nothing is timed
 * inside the isolate. Per verification: the client's wall time of a batch of
 * N, less the median of empty batches (the request's own cost), over N; and
 * the workerd processes' CPU time (user + system, /proc) over the batch, over N.
 */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { REPO_ROOT } from '../lib/child-process.ts'
import { startWrangler } from '../lib/edge-process.ts'
import { median } from '../lib/stats.ts'
import { WRANGLER_QUIET_ENV } from '../lib/wrangler-env.ts'

/** A signature to verify, hex. */
export interface HexCase {
  publicKey: string
  message: string
  signature: string
}

/** One measured path in workerd. */
export interface WorkerdRow {
  name: string
  n: number
  /** Client wall time per verification, less the empty request's, µs. */
  wallUs: number
  /** workerd CPU per verification, µs. */
  cpuUs: number
}

interface Vector extends HexCase {
  name: string
  valid: boolean
}

const VECTORS = resolve(REPO_ROOT, 'shared', 'fixtures', 'ed25519-strict.json')
const CONFIG = resolve(REPO_ROOT, 'bench', 'crypto', 'workerd-verify', 'wrangler.toml')

/** The running Worker: where it answers and how much CPU its workerd processes used so far. */
interface VerifyWorker {
  url: string
  cpuMs(): number
  stop(): Promise<void>
}

/** The Worker under `wrangler dev`, with wrangler's local tracing left on as when the published figures were taken. */
async function startWorker(): Promise<VerifyWorker> {
  const server = await startWrangler({ source: ['--config', CONFIG], env: WRANGLER_QUIET_ENV })
  return {
    url: server.origin,
    cpuMs: () => server.cpuByCommand()?.get('workerd') ?? Number.NaN,
    stop: () => server.stop(),
  }
}

async function post<T>(url: string, body: unknown): Promise<T> {
  const res = await fetch(url, { method: 'POST', body: JSON.stringify(body) })
  if (!res.ok) throw new Error(`${url} answered ${res.status}: ${await res.text()}`)
  return (await res.json()) as T
}

/** Each strict-rule vector's verdict inside workerd, from `verifyAsync` and from noble; throws on any disagreement. */
async function checkVectors(url: string): Promise<string> {
  const { cases } = JSON.parse(readFileSync(VECTORS, 'utf8')) as { cases: Vector[] }
  const got = await post<{ name: string; verifyAsync: boolean; noble: boolean }[]>(`${url}/vectors`, { cases })
  const wrong = cases.filter((c, i) => got[i]?.verifyAsync !== c.valid || got[i]?.noble !== c.valid)
  if (wrong.length > 0) throw new Error(`workerd: strict-rule vectors failed: ${wrong.map((c) => c.name).join('; ')}`)
  return `${cases.length}/${cases.length} strict-rule vectors (shared/fixtures/ed25519-strict.json) give their expected verdict in workerd, from verifyAsync and from noble`
}

type VerifyPath = 'verifyAsync' | 'noble' | 'subtle'

/** Measures the workerd paths with `cases`; `repeats` batches a row, the median kept. */
export async function workerdRows(
  cases: HexCase[],
  inFlight: number,
  repeats = 3,
): Promise<{ backend: string; vectors: string; rows: WorkerdRow[] }> {
  const worker = await startWorker()
  try {
    const vectors = await checkVectors(worker.url)
    const batch = async (path: VerifyPath, n: number, flight: number) => {
      const cpu = worker.cpuMs()
      const start = performance.now()
      const answer = await post<{ backend: string; verified: number; failed: number }>(`${worker.url}/verify`, {
        path,
        n,
        inFlight: flight,
        cases,
      })
      const wall = performance.now() - start
      if (answer.failed > 0 || answer.verified !== n)
        throw new Error(`workerd ${path}: ${answer.failed} did not verify`)
      return { wall, cpu: worker.cpuMs() - cpu, backend: answer.backend }
    }
    // Warm up every path (bundle loaded, keys imported and cached), then take the request's own cost.
    for (const path of ['verifyAsync', 'noble', 'subtle'] as const) await batch(path, 64, 1)
    const empty: number[] = []
    for (let i = 0; i < 5; i++) empty.push((await batch('verifyAsync', 0, 1)).wall)
    const overhead = median(empty)
    const row = async (name: string, path: VerifyPath, n: number, flight: number): Promise<WorkerdRow> => {
      const runs = []
      for (let i = 0; i < repeats; i++) runs.push(await batch(path, n, flight))
      return {
        name,
        n,
        wallUs: (median(runs.map((r) => r.wall)) - overhead) * (1000 / n),
        cpuUs: median(runs.map((r) => r.cpu)) * (1000 / n),
      }
    }
    const rows = [
      await row('workerd, noble: verify (sync, strict)', 'noble', 1_000, 1),
      await row('workerd, WebCrypto: verifyAsync, one at a time', 'verifyAsync', 20_000, 1),
      await row(`workerd, WebCrypto: verifyAsync, ${inFlight} in flight`, 'verifyAsync', 20_000, inFlight),
      await row('workerd, WebCrypto: subtle.verify alone, one at a time', 'subtle', 20_000, 1),
    ]
    const { backend } = await batch('verifyAsync', 1, 1)
    return { backend, vectors, rows }
  } finally {
    await worker.stop()
  }
}
