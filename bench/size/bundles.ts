/**
 * The SDK bundles `npm run bench:size` measures, and how: each entry point
 * bundled by esbuild for the browser, ES2022, minified, without `yjs` (apps
 * bring their own), then gzipped at level 9. Each bundle has its own budget,
 * so the browser mesh peer (libp2p) never counts against the main SDK's.
 *
 * @example
 * ```ts
 * for (const bundle of BUNDLES) {
 *   const m = await measureBundle(bundle)
 *   console.log(bundle.label, m.minified, m.gzipped, bundle.budgetKb)
 * }
 * ```
 */
import { resolve } from 'node:path'
import { gzipSync } from 'node:zlib'
import { build, type Metafile } from 'esbuild'
import { REPO_ROOT } from '../lib/child-process.ts'

/** One entry point to bundle and what it may weigh. */
export interface Bundle {
  /** Its row in the table. */
  label: string
  /** The entry file, from the repository's root. */
  entry: string
  /** The gzipped budget in KB (1,024 bytes), or null when the bundle has none of its own. */
  budgetKb: number | null
  /** True when the bundle must not pull in libp2p (apps that never import the mesh must not ship it). */
  withoutLibp2p: boolean
}

export const BUNDLES: readonly Bundle[] = [
  { label: '@vivim/client (without yjs)', entry: 'client/src/index.ts', budgetKb: 40, withoutLibp2p: true },
  {
    label: '@vivim/client/e2e, alone (without yjs)',
    entry: 'client/src/e2e/index.ts',
    budgetKb: null,
    withoutLibp2p: true,
  },
  {
    label: '@vivim/client/mesh, alone (without yjs)',
    entry: 'client/src/mesh/index.ts',
    // Measured at 284.9 KB gzipped (953.1 KB minified) at dc46e0e with the libp2p versions in
    // package-lock.json; 320 KB leaves about 12%. The fourteen libp2p packages are peer dependencies
    // whose minor and patch releases land often, and routine updates within their ranges should not
    // fail the bench; a jump past 320 KB means something new came in (a Node polyfill, a second crypto
    // library, another transport or service, the DHT in server mode) and should be looked at first.
    // Not tighter: ~118 KB (minified) of it are duplicate copies npm nested in this install, which a
    // lockfile refresh can add to or remove. Kept apart from the 40 KB above: an app that imports
    // only `@vivim/client` pays none of this.
    budgetKb: 320,
    withoutLibp2p: false,
  },
]

/** What one bundle weighs, and its metafile's inputs (to say what it holds). */
export interface Measured {
  bundle: Bundle
  /** Minified bytes. */
  minified: number
  /** Gzipped bytes (level 9). */
  gzipped: number
  /** Each input file, relative to the repository's root, with its minified bytes in the output. */
  inputs: Metafile['outputs'][string]['inputs']
}

/** Bundles `bundle` in memory as a browser would get it, and weighs it. */
export async function measureBundle(bundle: Bundle): Promise<Measured> {
  const result = await build({
    entryPoints: [resolve(REPO_ROOT, bundle.entry)],
    absWorkingDir: REPO_ROOT,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    write: false,
    metafile: true,
    external: ['yjs'],
    logLevel: 'warning',
  })
  const code = result.outputFiles[0]?.contents ?? new Uint8Array()
  const inputs = Object.values(result.metafile.outputs)[0]?.inputs ?? {}
  return { bundle, minified: code.length, gzipped: gzipSync(code, { level: 9 }).length, inputs }
}
