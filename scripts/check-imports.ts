/**
 * Checks that `workers/` follows its import rule (`ARCHITECTURE.md`, "Import
 * rule"; the table and the check are in `import-rule.ts`): no part imports
 * another the table does not allow, and no imports between parts form a
 * cycle, type imports included. Exits 1 and names each offending import
 * when it does not.
 *
 * @example
 * ```sh
 * node scripts/check-imports.ts
 * ```
 */
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { checkImports, workerSources } from './import-rule.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const files = workerSources(root, {
  list: (dir) => readdirSync(dir, { recursive: true, encoding: 'utf8' }),
  read: (path) => readFileSync(path, 'utf8'),
})
const problems = checkImports(files)
if (problems.length > 0) {
  console.error(
    `workers/ breaks its import rule (ARCHITECTURE.md, "Import rule"; the table is in scripts/import-rule.ts):`,
  )
  for (const problem of problems) console.error(`  ${problem}`)
  process.exit(1)
}
console.log(`workers/ follows its import rule (${files.size} files)`)
