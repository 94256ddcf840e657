/**
 * Child process of the dispatch benchmark's `miniflare` setup: serves the
 * counting Worker (`dispatch-worker/worker.js`) through Miniflare's API, the
 * layer `wrangler dev` builds on, without wrangler's proxy Worker, inspector
 * or dev registry, until killed.
 *
 *   node bench/docs/dispatch-miniflare.ts <port> <state dir> [traced]
 *
 * `traced` turns on local observability (`unsafeObservability`), as wrangler
 * dev does by default.
 */
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { COMPATIBILITY_DATE, MINIFLARE_ENTRY, WORKER_DIR } from './dispatch-setups.ts'

const [port, dir, traced] = process.argv.slice(2)
if (port === undefined || dir === undefined) throw new Error('usage: dispatch-miniflare.ts <port> <state dir>')
/** What is used of the Miniflare wrangler resolves (its types may differ from the top-level package's). */
interface MiniflareModule {
  Miniflare: new (options: unknown) => { ready: Promise<URL>; dispose(): Promise<void> }
  /** Miniflare 5 takes its own option shape; this converts the documented v4 one. */
  convertV4MiniflareOptions(options: unknown): unknown
}
const { Miniflare, convertV4MiniflareOptions } = (await import(pathToFileURL(MINIFLARE_ENTRY).href)) as MiniflareModule
const options = {
  host: '127.0.0.1',
  port: Number(port),
  resourcePersistencePath: dir,
  cf: false,
  unsafeObservability: traced === 'traced',
  workers: [
    {
      name: 'vivim-bench-dispatch',
      modules: true,
      scriptPath: join(WORKER_DIR, 'worker.js'),
      compatibilityDate: COMPATIBILITY_DATE,
      durableObjects: { COUNTER: { className: 'Counter', useSQLite: true } },
    },
  ],
}
const mf = new Miniflare(convertV4MiniflareOptions(options))
await mf.ready
process.on('SIGTERM', () => {
  void mf.dispose().finally(() => process.exit(0))
})
