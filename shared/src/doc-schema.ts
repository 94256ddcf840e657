/**
 * Schema and rule enforcement for typed documents: `createSchemaGuard`
 * watches a Y.Doc and, after each transaction, checks every struct the
 * transaction added against the type's schema (`doc-types.ts`), and every
 * entry it added or deleted against the type's rules (`doc-rules.ts`).
 * Yjs cannot undo an applied update, so the guard only reports; the caller
 * (the document room) throws the document away and reloads it from storage,
 * which never saw the bad update.
 *
 * @example
 * ```ts
 * const guard = createSchemaGuard(doc, 'conversation', () => ({ did: writer.did, owner }))
 * Y.applyUpdate(doc, update)
 * const problem = guard.take() // null, or { reason, forbidden }
 * ```
 */
import * as Y from 'yjs'
import { checkDocChange, type DocChange, type DocWriter } from './doc-rules.ts'
import { type CircleRole, type DocSchema, DocSchemas, type DocType } from './doc-types.ts'

/** Why the guard refused a transaction: `forbidden` for a rule of `doc-rules.ts`, else the schema. */
export interface GuardProblem {
  readonly reason: string
  readonly forbidden: boolean
}

/** The checks `createSchemaGuard` attaches to a Y.Doc. */
export interface SchemaGuard {
  /** The first violation since the last call, or null; clears it. */
  take(): GuardProblem | null
  /** Detaches the guard from the document. */
  destroy(): void
}

/** Who writes the next transaction: null checks the schema only (development mode without a token, federation). */
export type WriterOf = () => Pick<DocWriter, 'did' | 'owner' | 'admin'> | null

/** Creates each root with its schema's type, so Yjs integrates writes into the right kind. */
export function defineRoots(doc: Y.Doc, type: DocType): void {
  for (const [name, spec] of Object.entries(DocSchemas[type])) {
    if (spec.kind === 'array') doc.getArray(name)
    else doc.getMap(name)
  }
}

/**
 * Watches `doc`: after each transaction it checks every struct the
 * transaction added (deleted ones too: content inserted and deleted in one
 * update is still content) against the schema, and, when `writerOf` names a
 * writer, every entry it added or deleted against `DocRules[type]`.
 */
export function createSchemaGuard(doc: Y.Doc, type: DocType, writerOf: WriterOf = () => null): SchemaGuard {
  let problem: GuardProblem | null = null
  const onTransaction = (tr: Y.Transaction) => {
    if (problem !== null) return
    const reason = checkTransaction(doc, DocSchemas[type], tr)
    if (reason !== null) {
      problem = { reason, forbidden: false }
      return
    }
    const writer = writerOf()
    if (writer === null) return
    // Memoized per transaction: an update of many overwrites of one entry would otherwise walk them for each.
    const roles = new Map<string, CircleRole | null>()
    const roleOf = (did: string) => {
      if (type !== 'circle') return null
      if (!roles.has(did)) roles.set(did, roleBefore(doc, tr, did))
      return roles.get(did) ?? null
    }
    const forbidden = checkRules(doc, type, tr, { ...writer, roleOf })
    if (forbidden !== null) problem = { reason: forbidden, forbidden: true }
  }
  doc.on('afterTransaction', onTransaction)
  return {
    take() {
      const p = problem
      problem = null
      return p
    },
    destroy() {
      doc.off('afterTransaction', onTransaction)
    },
  }
}

/** Whether the transaction created this struct (it was not in the document before). */
const isNew = (tr: Y.Transaction, struct: Y.Item | Y.GC): boolean =>
  struct.id.clock >= (tr.beforeState.get(struct.id.client) ?? 0)

function checkTransaction(doc: Y.Doc, schema: DocSchema, tr: Y.Transaction): string | null {
  for (const [client, after] of tr.afterState) {
    const before = tr.beforeState.get(client) ?? 0
    if (after <= before) continue
    const structs = doc.store.clients.get(client)
    if (!structs) continue
    for (let i = Y.findIndexSS(structs, before); i < structs.length; i++) {
      const struct = structs[i]
      if (struct instanceof Y.Item) {
        const problem = checkItem(schema, struct)
        if (problem !== null) return problem
      }
    }
  }
  return null
}

function checkItem(schema: DocSchema, item: Y.Item): string | null {
  const parent = item.parent
  if (!(parent instanceof Y.AbstractType) || parent._item !== null) return 'nested shared types are not allowed here'
  const name = Y.findRootTypeKey(parent)
  // Own keys only: a root named `constructor` or `__proto__` is not in any schema.
  const spec = Object.hasOwn(schema, name) ? schema[name] : undefined
  if (!spec) return `unknown root "${name}"; this document has ${Object.keys(schema).join(', ')}`
  const isMapEntry = item.parentSub !== null
  if (isMapEntry !== (spec.kind === 'map')) return `"${name}" is a Y.${spec.kind === 'map' ? 'Map' : 'Array'}`
  // Content deleted before it reached the room arrives as a length only: nothing to check.
  if (item.content instanceof Y.ContentDeleted) return null
  if (!(item.content instanceof Y.ContentAny)) return `"${name}" holds plain JSON values only`
  for (const value of item.content.arr) {
    const problem = spec.check(value, item.parentSub)
    if (problem !== null) return `${name}: ${problem}`
  }
  return null
}

/** The entries an item holds, as changes of `op`; none for content that was already deleted. */
function changesOf(item: Y.Item, op: DocChange['op']): DocChange[] {
  if (!(item.content instanceof Y.ContentAny) || !(item.parent instanceof Y.AbstractType)) return []
  const root = Y.findRootTypeKey(item.parent)
  return item.content.arr.map((value) => ({ root, key: item.parentSub, value, op }))
}

/** Checks what the (schema-valid) transaction inserted and deleted against the type's rules. */
function checkRules(doc: Y.Doc, type: DocType, tr: Y.Transaction, writer: DocWriter): string | null {
  let problem: string | null = null
  const check = (item: Y.Item, op: DocChange['op']) => {
    for (const change of changesOf(item, op)) {
      problem ??= checkDocChange(type, change, writer)
    }
  }
  for (const [client, after] of tr.afterState) {
    const before = tr.beforeState.get(client) ?? 0
    const structs = after > before ? doc.store.clients.get(client) : undefined
    if (!structs) continue
    for (let i = Y.findIndexSS(structs, before); i < structs.length && problem === null; i++) {
      const struct = structs[i]
      if (struct instanceof Y.Item) check(struct, 'insert')
    }
  }
  if (problem !== null) return problem
  // An entry the transaction both added and removed was checked as an insert; a removal of what
  // was there before is the writer's act too (a Y.Map overwrite removes the old value).
  Y.iterateDeletedStructs(tr, tr.deleteSet, (struct) => {
    if (problem === null && struct instanceof Y.Item && !isNew(tr, struct)) check(struct, 'delete')
  })
  return problem
}

/** A DID's role in `members` as it was before `tr`: the newest value of its entry that `tr` did not add. */
function roleBefore(doc: Y.Doc, tr: Y.Transaction, did: string): CircleRole | null {
  let item: Y.Item | null = doc.getMap('members')._map.get(did) ?? null
  while (item !== null && isNew(tr, item)) item = item.left
  if (item === null || (item.deleted && !Y.isDeleted(tr.deleteSet, item.id))) return null
  if (!(item.content instanceof Y.ContentAny)) return null
  const role = (item.content.arr.at(-1) as { role?: unknown } | undefined)?.role
  return role === 'owner' || role === 'admin' || role === 'member' ? role : null
}
