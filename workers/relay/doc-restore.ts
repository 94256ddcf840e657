/**
 * Restoring a version as a new change. Yjs cannot move a document back in
 * time, and history is never rewritten here: instead, each root type of the
 * document is made to hold what it held in the version, by ordinary edits
 * (deletes, and inserts of copies), made on a copy of the current document
 * under a fresh Yjs client; only the spans that differ are replaced, so
 * content both hold keeps its identity. The edits, as one update, go through
 * the room's write path like any client's, so every client receives them
 * and the schema checks them. The rules of who may write what are not
 * applied to a restore (an owner or admin asks for it, and it brings back
 * content that passed them when it was written, others' messages included).
 *
 * Root types are known for the typed documents (`defineRoots`); for others
 * they are read off the content: keys make a map, strings and formats a
 * text, XML elements a fragment, anything else an array.
 *
 * @example
 * ```ts
 * const update = restoreUpdate(currentState, versionState, type)
 * room.write(restorer, update)
 * ```
 */
import { type DocType, defineRoots } from '@vivim/shared'
import * as Y from 'yjs'

type RootKind = 'map' | 'array' | 'text' | 'xml'

/** The update that makes a document at `current` hold what it held at `version`. */
export function restoreUpdate(current: Uint8Array, version: Uint8Array, type: DocType | null): Uint8Array {
  const now = load(current, type)
  const past = load(version, type)
  const before = Y.encodeStateVector(now)
  const names = new Set([...now.share.keys(), ...past.share.keys()])
  now.transact(() => {
    for (const name of names) {
      const kind = kindOf(now.share.get(name)) ?? kindOf(past.share.get(name))
      if (kind !== null) replace(now, past, name, kind)
    }
  })
  const update = Y.encodeStateAsUpdate(now, before)
  now.destroy()
  past.destroy()
  return update
}

function load(state: Uint8Array, type: DocType | null): Y.Doc {
  const doc = new Y.Doc()
  if (type !== null) defineRoots(doc, type)
  if (state.length > 0) Y.applyUpdate(doc, state)
  return doc
}

/** What a root type is: its class when a schema defined it, else read off its content; null when empty. */
// biome-ignore lint/suspicious/noExplicitAny: a root type of any event type
function kindOf(type: Y.AbstractType<any> | undefined): RootKind | null {
  if (type === undefined) return null
  if (type instanceof Y.Map) return 'map'
  if (type instanceof Y.Text) return 'text'
  if (type instanceof Y.XmlFragment) return 'xml'
  if (type instanceof Y.Array) return 'array'
  if (type._map.size > 0) return 'map'
  // Deleted items tell nothing (their content is gone): the first live one does.
  let item = type._start
  while (item?.deleted) item = item.right
  if (item != null) {
    const content = item.content
    if (content instanceof Y.ContentString || content instanceof Y.ContentFormat || content instanceof Y.ContentEmbed)
      return 'text'
    if (content instanceof Y.ContentType && (content.type instanceof Y.XmlElement || content.type instanceof Y.XmlText))
      return 'xml'
    return 'array'
  }
  return null
}

/** A value to insert again: Yjs types are copied (a type lives in one document), the rest as is. */
function copy(value: unknown): unknown {
  return value instanceof Y.AbstractType ? (value as { clone(): unknown } & Y.AbstractType<unknown>).clone() : value
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b)

/**
 * The span where `now` and `past` differ: how many items they share at the start, and at the end
 * (not overlapping); `[null, 0]` when they are the same.
 */
function differing(now: readonly unknown[], past: readonly unknown[]): [number | null, number] {
  let start = 0
  while (start < now.length && start < past.length && same(now[start], past[start])) start++
  if (start === now.length && start === past.length) return [null, 0]
  let end = 0
  while (
    end < now.length - start &&
    end < past.length - start &&
    same(now[now.length - 1 - end], past[past.length - 1 - end])
  )
    end++
  return [start, end]
}

function replace(now: Y.Doc, past: Y.Doc, name: string, kind: RootKind): void {
  switch (kind) {
    case 'map': {
      const to = now.getMap(name)
      const from = past.getMap(name)
      for (const key of [...to.keys()]) if (!from.has(key)) to.delete(key)
      for (const [key, value] of from.entries()) {
        const here = to.get(key)
        if (
          !same(
            here instanceof Y.AbstractType ? here.toJSON() : here,
            value instanceof Y.AbstractType ? value.toJSON() : value,
          )
        )
          to.set(key, copy(value))
      }
      return
    }
    case 'array': {
      const to = now.getArray(name)
      const from = past.getArray(name)
      // Only what differs is replaced, so items both hold keep their identity (and their authors).
      const [start, end] = differing(to.toJSON(), from.toJSON())
      if (start === null) return
      to.delete(start, to.length - end - start)
      to.insert(
        start,
        from
          .toArray()
          .slice(start, from.length - end)
          .map(copy),
      )
      return
    }
    case 'text': {
      const to = now.getText(name)
      const from = past.getText(name)
      if (same(to.toDelta(), from.toDelta())) return
      const plain = (t: Y.Text) =>
        t
          .toDelta()
          .every(
            (op: { insert?: unknown; attributes?: unknown }) =>
              typeof op.insert === 'string' && op.attributes === undefined,
          )
      if (plain(to) && plain(from)) {
        // UTF-16 code units, as Y.Text counts.
        const was = from.toString()
        const [start, end] = differing(to.toString().split(''), was.split(''))
        if (start === null) return
        to.delete(start, to.length - end - start)
        to.insert(start, was.slice(start, was.length - end))
        return
      }
      to.delete(0, to.length)
      to.applyDelta(from.toDelta())
      return
    }
    case 'xml': {
      const to = now.getXmlFragment(name)
      const from = past.getXmlFragment(name)
      if (to.toString() === from.toString()) return
      to.delete(0, to.length)
      to.insert(
        0,
        from.toArray().map((node) => node.clone() as Y.XmlElement | Y.XmlText),
      )
      return
    }
  }
}
