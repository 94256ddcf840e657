/**
 * `npm run bench:size`: the SDK's browser bundle, minified and gzipped,
 * without `yjs` (apps bring their own), against the 40 KB budget. Prints one
 * Markdown row per entry point and the largest inputs, so growth is easy to
 * trace.
 */
import { resolve } from 'node:path'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'
import { REPO_ROOT as ROOT } from '../lib/child-process.ts'
import { parseOptions } from '../lib/options.ts'
import { markdownTable } from '../lib/report-table.ts'

const BUDGET_KB = 40
parseOptions('node bench/size/run.ts   (npm run bench:size; it takes no flags)', {})

async function measure(entry: string) {
  return build({
    entryPoints: [resolve(ROOT, entry)],
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
}

const kb = (n: number) => (n / 1024).toFixed(1)
const result = await measure('client/src/index.ts')
const code = result.outputFiles[0]?.contents ?? new Uint8Array()
const gzipped = gzipSync(code, { level: 9 }).length
const e2e = (await measure('client/src/e2e/index.ts')).outputFiles[0]?.contents ?? new Uint8Array()
const sizes = [
  ['@vivim/client (without yjs)', `${kb(code.length)} KB`, `${kb(gzipped)} KB`, `${BUDGET_KB} KB`],
  [
    '@vivim/client/e2e, alone (without yjs)',
    `${kb(e2e.length)} KB`,
    `${kb(gzipSync(e2e, { level: 9 }).length)} KB`,
    '—',
  ],
]
console.log(markdownTable(['bundle', 'minified', 'gzipped', 'budget'], sizes, 'llll'))
const inputs = Object.values(result.metafile.outputs)[0]?.inputs ?? {}
const byPackage = new Map<string, number>()
for (const [path, info] of Object.entries(inputs)) {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1] ?? path.split('/').slice(0, 2).join('/')
  byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + info.bytesInOutput)
}
console.log('\nlargest parts (minified bytes in the bundle):')
for (const [pkg, bytes] of [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 10)) {
  console.log(`  ${pkg.padEnd(28)} ${kb(bytes)} KB`)
}
if (gzipped / 1024 > BUDGET_KB) console.log(`\nover budget by ${kb(gzipped - BUDGET_KB * 1024)} KB`)
