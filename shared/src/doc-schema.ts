/**
 * Schema enforcement for typed documents: `createSchemaGuard` watches a Y.Doc
 * and, after each transaction, checks every struct the transaction added.
 * Yjs cannot undo an applied update, so the guard only reports; the caller
 * (the document room) throws the document away and reloads it from storage,
 * which never saw the bad update.
 *
 * @example
 * ```ts
 * const guard = createSchemaGuard(doc, DocSchemas.conversation)
 * Y.applyUpdate(doc, update)
 * const problem = guard.take() // null, or why the update was refused
 * ```
 */
import * as Y from 'yjs'
import { type DocSchema, DocSchemas, type DocType } from './doc-types.ts'

export interface SchemaGuard {
  /** The first violation since the last call, or null; clears it. */
  take(): string | null
  destroy(): void
}

/** Creates each root with its schema's type, so Yjs integrates writes into the right kind. */
export function defineRoots(doc: Y.Doc, type: DocType): void {
  for (const [name, spec] of Object.entries(DocSchemas[type])) {
    if (spec.kind === 'array') doc.getArray(name)
    else doc.getMap(name)
  }
}

export function createSchemaGuard(doc: Y.Doc, schema: DocSchema): SchemaGuard {
  let problem: string | null = null
  const onTransaction = (tr: Y.Transaction) => {
    if (problem === null) problem = checkTransaction(doc, schema, tr)
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

function checkTransaction(doc: Y.Doc, schema: DocSchema, tr: Y.Transaction): string | null {
  for (const [client, after] of tr.afterState) {
    const before = tr.beforeState.get(client) ?? 0
    if (after <= before) continue
    const structs = doc.store.clients.get(client)
    if (!structs) continue
    for (let i = Y.findIndexSS(structs, before); i < structs.length; i++) {
      const struct = structs[i]
      if (struct instanceof Y.Item && !struct.deleted) {
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
  const spec = schema[name]
  if (!spec) return `unknown root "${name}"; this document has ${Object.keys(schema).join(', ')}`
  const isMapEntry = item.parentSub !== null
  if (isMapEntry !== (spec.kind === 'map')) return `"${name}" is a Y.${spec.kind === 'map' ? 'Map' : 'Array'}`
  if (!(item.content instanceof Y.ContentAny)) return `"${name}" holds plain JSON values only`
  for (const value of item.content.arr) {
    const problem = spec.check(value, item.parentSub)
    if (problem !== null) return `${name}: ${problem}`
  }
  return null
}
