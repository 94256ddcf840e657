/**
 * The edge Worker's import rule (`scripts/import-rule.ts`, stated in
 * `ARCHITECTURE.md`): fed small trees in memory, it refuses an import the
 * table does not allow and a cycle between parts (type imports included),
 * and it accepts the real `workers/` tree. Here with `shared/`'s tests
 * because the `node` project is where Node-side checks run.
 */
import { describe, expect, it } from 'vitest'
import { checkImports, IMPORT_RULE, importsOf, partCycles, workerSources } from '../../scripts/import-rule.ts'

// `shared/` is typed without Node's types (it runs everywhere), so the few Node APIs this test needs are typed here.
interface NodeFs {
  readdirSync(path: string, options: { recursive: true; encoding: 'utf8' }): string[]
  readFileSync(path: string, encoding: 'utf8'): string
}
const fs = (await import('node:fs' as string)) as NodeFs
const { dirname, resolve } = (await import('node:path' as string)) as {
  dirname(path: string): string
  resolve(...parts: string[]): string
}
const { fileURLToPath } = (await import('node:url' as string)) as { fileURLToPath(url: string): string }
const ROOT = resolve(dirname(fileURLToPath((import.meta as unknown as { url: string }).url)), '..', '..')

const tree = (entries: Record<string, string>) => new Map(Object.entries(entries))

describe('the import rule of workers/', () => {
  it('refuses an import the table does not allow, naming the file and what its part may import', () => {
    const problems = checkImports(
      tree({
        'workers/federation/hooks.ts': 'export const hook = 1',
        'workers/relay/app.ts': "import { hook } from '../federation/hooks.ts'\nexport const relay = hook",
      }),
    )
    expect(problems).toEqual([
      'workers/relay/app.ts imports workers/federation/hooks.ts: relay may import only http, auth, extensions',
    ])
  })

  it('refuses a cycle between parts, even one the table allows and one made of type imports', () => {
    const rule = { a: { purpose: 'a', mayImport: ['b'] }, b: { purpose: 'b', mayImport: ['a'] } }
    const problems = checkImports(
      tree({
        'workers/a/one.ts': "import type { Two } from '../b/two.ts'\nexport type One = Two",
        'workers/b/two.ts': "import type {\n  One,\n} from '../a/one.ts'\nexport type Two = One[]",
      }),
      rule,
    )
    expect(problems).toEqual([
      'cycle between parts a -> b -> a (workers/a/one.ts imports workers/b/two.ts; workers/b/two.ts imports workers/a/one.ts)',
    ])
  })

  it('reports both a forbidden import and the cycle it closes with the real table', () => {
    const problems = checkImports(
      tree({
        'workers/http/access.ts': "import { edgeIdentity } from '../auth/edge-identity.ts'",
        'workers/auth/app.ts': "export * from '../http/access.ts'",
      }),
    )
    expect(problems).toHaveLength(2)
    expect(problems[0]).toMatch(/^workers\/auth\/app\.ts imports workers\/http\/access\.ts: auth may import only/)
    expect(problems[1]).toMatch(/^cycle between parts auth -> http -> auth/)
  })

  it('reads every form of import, and nothing in comments or strings', () => {
    const source = [
      "import type { A } from './a.ts'",
      "import * as b from '../b.ts'",
      "export { c } from './c.ts'",
      "import './d.ts'",
      "type E = import('./e.ts').E",
      "// import { f } from './f.ts'",
      "/* import { g } from './g.ts' */",
      "const url = 'https://example.org' // a string with // in it",
      'const h = Array.from("x")',
    ].join('\n')
    expect(importsOf(source).sort()).toEqual(['../b.ts', './a.ts', './c.ts', './d.ts', './e.ts'])
  })

  it('does not read tests or generated files', () => {
    const forbidden = "import { hook } from '../../federation/hooks.ts'"
    expect(
      checkImports(
        tree({
          'workers/test/relay.test.ts': "import { hook } from '../federation/hooks.ts'",
          'workers/relay/test/x.test.ts': forbidden,
          'workers/.generated/runtime.d.ts': "import '../federation/hooks.ts'",
        }),
      ),
    ).toEqual([])
  })

  it('has a table with no cycle, naming a purpose for every part', () => {
    const graph = new Map(
      Object.entries(IMPORT_RULE).map(([part, r]) => [part, new Map(r.mayImport.map((p) => [p, 1]))]),
    )
    expect(partCycles(graph)).toEqual([])
    for (const rule of Object.values(IMPORT_RULE)) expect(rule.purpose).not.toBe('')
  })

  it('is the table ARCHITECTURE.md states ("Import rule")', () => {
    const doc = fs.readFileSync(`${ROOT}/ARCHITECTURE.md`, 'utf8')
    const section = doc.split('\n## Import rule\n')[1]?.split('\n## ')[0] ?? ''
    const stated = new Map<string, string[]>()
    for (const [, part, imports] of section.matchAll(/^\| `(\w+)` \| .+ \| (.+) \|$/gm)) {
      const names = (imports as string).match(/`\w+`/g)?.map((name) => name.slice(1, -1)) ?? []
      stated.set(part as string, imports === 'every part' ? Object.keys(IMPORT_RULE).filter((p) => p !== part) : names)
    }
    const table = Object.entries(IMPORT_RULE).map(([part, rule]) => [part, [...rule.mayImport].sort()])
    expect([...stated].map(([part, names]) => [part, [...names].sort()])).toEqual(table)
  })

  it('accepts the real tree', () => {
    const files = workerSources(ROOT, {
      list: (dir) => fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }),
      read: (path) => fs.readFileSync(path, 'utf8'),
    })
    expect(files.has('workers/extensions/events.ts')).toBe(true)
    expect(checkImports(files)).toEqual([])
  })
})
