/**
 * `npm run bench:size`: the SDK's browser bundles, minified and gzipped,
 * without `yjs` (apps bring their own), each against its own budget
 * (`bundles.ts`): the main SDK against 40 KB, the browser mesh peer
 * (`@vivim/client/mesh`, libp2p) against its own, so it never eats the main
 * SDK's. Prints one Markdown row per entry point, checks that the bundles
 * that must not hold libp2p hold none of it, and lists the largest inputs,
 * so growth is easy to trace. Exits 1 when a bundle is over its budget or
 * libp2p leaked into one that must not have it.
 */
import { parseOptions } from '../lib/options.ts'
import { markdownTable } from '../lib/report-table.ts'
import { BUNDLES, type Measured, measureBundle } from './bundles.ts'
import { duplicateCopies, largestFiles, largestPackages, libp2pInputs } from './inputs.ts'

parseOptions('node bench/size/run.ts   (npm run bench:size; it takes no flags)', {})

const kb = (n: number) => (n / 1024).toFixed(1)
const measured: Measured[] = []
for (const bundle of BUNDLES) measured.push(await measureBundle(bundle))

console.log(
  markdownTable(
    ['bundle', 'minified', 'gzipped', 'budget'],
    measured.map((m) => [
      m.bundle.label,
      `${kb(m.minified)} KB`,
      `${kb(m.gzipped)} KB`,
      m.bundle.budgetKb === null ? '—' : `${m.bundle.budgetKb} KB`,
    ]),
    'llll',
  ),
)

const failures: string[] = []
console.log('\nlibp2p modules in each bundle (libp2p, @libp2p/*, @chainsafe/libp2p-*, multiaddr, client/src/mesh):')
for (const m of measured) {
  const libp2p = libp2pInputs(m.inputs)
  const total = Object.keys(m.inputs).length
  const verdict = m.bundle.withoutLibp2p ? (libp2p.length === 0 ? 'none, as required' : 'LEAKED') : 'its own budget'
  console.log(`  ${m.bundle.label}: ${libp2p.length} of ${total} inputs (${verdict})`)
  if (m.bundle.withoutLibp2p && libp2p.length > 0) {
    failures.push(`${m.bundle.label} bundles libp2p: ${libp2p.slice(0, 5).join(', ')}`)
  }
  // The check itself: the mesh bundle must show libp2p, or the pattern no longer matches its paths.
  if (!m.bundle.withoutLibp2p && libp2p.length === 0) failures.push(`${m.bundle.label}: no libp2p found in it`)
}

for (const m of measured) {
  if (m.bundle.budgetKb === null && m.bundle.withoutLibp2p) continue // e2e: its parts are the main bundle's
  console.log(`\n${m.bundle.label}, largest parts (minified bytes in the bundle):`)
  for (const p of largestPackages(m.inputs, m.bundle.withoutLibp2p ? 10 : 15)) {
    const copies = p.copies > 1 ? ` (${p.copies} copies)` : ''
    console.log(`  ${p.name.padEnd(28)} ${kb(p.bytes).padStart(6)} KB${copies}`)
  }
  if (m.bundle.withoutLibp2p) continue
  console.log('  largest files:')
  for (const f of largestFiles(m.inputs, 6)) console.log(`    ${kb(f.bytes).padStart(6)} KB  ${f.path}`)
  const dup = duplicateCopies(m.inputs)
  console.log(`  extra copies of a package version already bundled: ${kb(dup.bytes)} KB minified`)
  console.log(`    (${dup.packages.join(', ') || 'none'})`)
}

for (const m of measured) {
  const budget = m.bundle.budgetKb
  if (budget !== null && m.gzipped > budget * 1024) {
    failures.push(`${m.bundle.label} over budget by ${kb(m.gzipped - budget * 1024)} KB`)
  }
}
for (const failure of failures) console.log(`\n${failure}`)
if (failures.length > 0) process.exitCode = 1
