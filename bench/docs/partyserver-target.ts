/**
 * y-partyserver (`YServer` on partyserver, Cloudflare's own Yjs Durable
 * Object) as a server of the document benchmark: the Worker in
 * `partyserver-worker/`, bundled once and served by `wrangler dev` with the
 * relay's flags (`--persist-to` a temp dir, `CLOUDFLARE_CF_FETCH_ENABLED=false`,
 * `WRANGLER_SEND_METRICS=false`), so both run on the same local runtime.
 * It speaks the plain y-websocket sync protocol (dialect `yjs`).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { BENCH_WRANGLER_ENV } from '../lib/wrangler-env.ts'
import { freePort, REPO_ROOT, type ServerChild, spawnServer, waitForHttp } from './child-processes.ts'
import { bundleTree } from './rules-edges.ts'

export type PartyMode = 'plain' | 'hibernatable'

const WORKER_DIR = resolve(import.meta.dirname, 'partyserver-worker')
const READY_MS = 90_000
/** routePartykitRequest's namespaces: the bindings' names kebab-cased (YDoc, YDocHib). */
const PARTY: Record<PartyMode, string> = { plain: 'y-doc', hibernatable: 'y-doc-hib' }

export interface PartyServerChild {
  readonly child: ServerChild
  urlFor(docId: string): string
  cleanup(): void
}

/** Bundles the Worker, starts `wrangler dev` on it and waits until it answers; the caller probes a sync. */
export async function launchPartyServer(mode: PartyMode): Promise<PartyServerChild> {
  const persist = mkdtempSync(join(tmpdir(), 'vivim-bench-partyserver-'))
  const cleanup = () => rmSync(persist, { recursive: true, force: true })
  let bundle: string[]
  try {
    // A bundle built now, as for the relay: wrangler dev would reload (dropping every socket) on an edit.
    bundle = bundleTree(WORKER_DIR, join(persist, 'snapshot'))
  } catch (error) {
    cleanup()
    throw error
  }
  const port = await freePort()
  const wrangler = resolve(REPO_ROOT, 'node_modules', '.bin', 'wrangler')
  const args = ['dev', ...bundle, '--port', `${port}`, '--ip', '127.0.0.1', '--persist-to', persist]
  // Its own inspector port, so that another wrangler dev on this machine cannot keep it from starting.
  args.push('--inspector-port', `${await freePort()}`)
  const child = spawnServer(`wrangler dev (y-partyserver, ${mode})`, wrangler, args, BENCH_WRANGLER_ENV)
  try {
    await waitForHttp(`http://127.0.0.1:${port}/`, READY_MS, child)
  } catch (error) {
    await child.stop()
    cleanup()
    throw error
  }
  return {
    child,
    // Document ids go in the path as they are (the benchmark's ids are URL-safe).
    urlFor: (docId) => `ws://127.0.0.1:${port}/parties/${PARTY[mode]}/${docId}`,
    cleanup,
  }
}
