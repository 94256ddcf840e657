/**
 * The import rule of the edge Worker (`workers/`), as data and as a check.
 * Each top folder under `workers/` is a part (files directly in `workers/`
 * form the part `root`); a file may import another part only when the table
 * below allows it, and no chain of imports between parts may come back to
 * where it started, type imports included. `ARCHITECTURE.md` ("Import rule")
 * states the same table; `scripts/check-imports.ts` runs the check on the
 * real tree. Pure: no Node API, so any runtime's tests can feed it a tree.
 *
 * @example
 * ```ts
 * checkImports(new Map([['workers/relay/app.ts', "import { x } from '../federation/hooks.ts'"]]))
 * // ['workers/relay/app.ts imports workers/federation/hooks.ts: relay may import only …']
 * ```
 */

export interface PartRule {
  /** What the part holds, in one line. */
  readonly purpose: string
  /** The other parts its files may import. */
  readonly mayImport: readonly string[]
}

export const IMPORT_RULE: Readonly<Record<string, PartRule>> = {
  extensions: { purpose: "the edge's events and the extension registry", mayImport: [] },
  auth: {
    purpose: 'the edge identity, resource owners, the revocation registry, /v1/edge and /v1/revocations',
    mayImport: ['extensions'],
  },
  http: {
    purpose: 'error responses, 404/405, refused sockets, the credential hook, the Hono env type',
    mayImport: ['auth'],
  },
  relay: {
    purpose: 'document, topic, sealed and signaling rooms and their routes',
    mayImport: ['http', 'auth', 'extensions'],
  },
  indexer: { purpose: 'the record registry, providers and search', mayImport: ['http', 'auth', 'extensions'] },
  federation: {
    purpose: 'an extension: other instances, over signed HTTP',
    mayImport: ['relay', 'indexer', 'auth', 'http', 'extensions'],
  },
  bridge: {
    purpose: 'an extension: the libp2p mesh, through linked bridges',
    mayImport: ['relay', 'indexer', 'auth', 'http', 'extensions'],
  },
  webhooks: {
    purpose: "an extension: signed webhooks, with federation's request signing",
    mayImport: ['federation', 'auth', 'http', 'extensions'],
  },
  root: {
    purpose: 'the entry module (registers the extensions) and the composed app',
    mayImport: ['extensions', 'auth', 'http', 'relay', 'indexer', 'federation', 'bridge', 'webhooks'],
  },
}

/** Whether the check reads `path`: TypeScript under `workers/`, but no tests and nothing generated. */
export function isChecked(path: string): boolean {
  return (
    path.startsWith('workers/') &&
    path.endsWith('.ts') &&
    !path.startsWith('workers/.generated/') &&
    !path.split('/').slice(1, -1).includes('test')
  )
}

/** The part of a path under `workers/`: its top folder, or `root` for a file directly in `workers/`. */
export function partOf(path: string): string {
  const segments = path.split('/')
  return segments.length > 2 ? (segments[1] as string) : 'root'
}

// Strings are matched (and kept) so that a `//` inside one is not taken for a comment.
const COMMENT_OR_STRING = /'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"|\/\*[\s\S]*?\*\/|\/\/[^\n]*/g
const FROM = /\b(?:import|export)\s+[\w\s{},*$]*?\bfrom\s*(['"])([^'"\n]+)\1/g
const BARE = /\bimport\s*(['"])([^'"\n]+)\1/g
const CALL = /\bimport\s*\(\s*(['"])([^'"\n]+)\1/g

/** Every module specifier `source` imports or re-exports: `import … from`, `import type`, `export … from`, `import '…'`, `import('…')`. */
export function importsOf(source: string): string[] {
  const code = source.replace(COMMENT_OR_STRING, (match) => (match.startsWith('/') ? '' : match))
  const found = new Set<string>()
  for (const pattern of [FROM, BARE, CALL]) {
    for (const match of code.matchAll(pattern)) found.add(match[2] as string)
  }
  return [...found]
}

/** `specifier` as a path from the repository root, or null when it names a package. */
export function resolveImport(from: string, specifier: string): string | null {
  if (!specifier.startsWith('./') && !specifier.startsWith('../')) return null
  const segments = from.split('/').slice(0, -1)
  for (const segment of specifier.split('/')) {
    if (segment === '..') segments.pop()
    else if (segment !== '.') segments.push(segment)
  }
  return segments.join('/')
}

interface Edge {
  readonly from: string
  readonly to: string
}

/**
 * What breaks the rule in `files` (path from the repository root → source):
 * imports the table does not allow, then cycles between parts. Empty when
 * the tree follows the rule.
 */
export function checkImports(files: ReadonlyMap<string, string>, rule = IMPORT_RULE): string[] {
  const problems: string[] = []
  // For each pair of parts, the first import that joins them (named in a cycle's report).
  const joins = new Map<string, Map<string, Edge>>()
  for (const [path, source] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
    if (!isChecked(path)) continue
    const from = partOf(path)
    const allowed = rule[from]
    if (!allowed) {
      problems.push(`${path}: workers/${from}/ is not a part of the import rule (add it to the table)`)
      continue
    }
    for (const specifier of importsOf(source)) {
      const target = resolveImport(path, specifier)
      if (target === null || !target.startsWith('workers/')) continue
      const to = partOf(target)
      if (to === from) continue
      if (!joins.has(from)) joins.set(from, new Map())
      if (!joins.get(from)?.has(to)) joins.get(from)?.set(to, { from: path, to: target })
      if (!allowed.mayImport.includes(to)) {
        const may = allowed.mayImport.length > 0 ? `only ${allowed.mayImport.join(', ')}` : 'no other part'
        problems.push(`${path} imports ${target}: ${from} may import ${may}`)
      }
    }
  }
  for (const { group, cycle } of partCycles(joins)) {
    const steps = cycle.map((part, i) => joins.get(part)?.get(cycle[(i + 1) % cycle.length] as string) as Edge)
    const how = steps.map((edge) => `${edge.from} imports ${edge.to}`).join('; ')
    const more = group.length > cycle.length ? `; ${[...group].sort().join(', ')} all reach one another` : ''
    problems.push(`cycle between parts ${[...cycle, cycle[0]].join(' -> ')} (${how}${more})`)
  }
  return problems
}

/** Each group of parts that reach one another (Tarjan's strongly connected components), with one cycle through it. */
export function partCycles(
  graph: ReadonlyMap<string, ReadonlyMap<string, unknown>>,
): { group: string[]; cycle: string[] }[] {
  const next = (part: string): string[] => [...(graph.get(part)?.keys() ?? [])]
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const groups: string[][] = []
  const visit = (part: string): void => {
    index.set(part, index.size)
    low.set(part, index.get(part) as number)
    stack.push(part)
    for (const to of next(part)) {
      if (!index.has(to)) {
        visit(to)
        low.set(part, Math.min(low.get(part) as number, low.get(to) as number))
      } else if (stack.includes(to)) {
        low.set(part, Math.min(low.get(part) as number, index.get(to) as number))
      }
    }
    if (low.get(part) !== index.get(part)) return
    const group: string[] = []
    let top: string | undefined
    do {
      top = stack.pop() as string
      group.push(top)
    } while (top !== part)
    if (group.length > 1) groups.push(group)
  }
  for (const part of [...graph.keys()].sort()) if (!index.has(part)) visit(part)
  return groups.map((group) => ({ group, cycle: cycleWithin(group, next) }))
}

/** A path from the group's first part back to it, through the group only (one exists: the group is connected). */
function cycleWithin(group: readonly string[], next: (part: string) => string[]): string[] {
  const start = [...group].sort()[0] as string
  const cameFrom = new Map<string, string>()
  const queue = [start]
  while (queue.length > 0) {
    const part = queue.shift() as string
    for (const to of next(part)) {
      if (!group.includes(to)) continue
      if (to === start) {
        const path = [part]
        while (path[0] !== start) path.unshift(cameFrom.get(path[0] as string) as string)
        return path
      }
      if (!cameFrom.has(to)) {
        cameFrom.set(to, part)
        queue.push(to)
      }
    }
  }
  return [start]
}

/** The Node calls `workerSources` needs, passed in so this module stays free of Node's types. */
export interface SourceReader {
  /** Every path under `dir`, relative to it, at any depth. */
  list(dir: string): string[]
  read(path: string): string
}

/** The checked sources of the tree at `root` (the repository), keyed by path from the root. */
export function workerSources(root: string, fs: SourceReader): Map<string, string> {
  const files = new Map<string, string>()
  for (const relative of fs.list(`${root}/workers`)) {
    const path = `workers/${relative.split('\\').join('/')}`
    if (isChecked(path)) files.set(path, fs.read(`${root}/${path}`))
  }
  return files
}
