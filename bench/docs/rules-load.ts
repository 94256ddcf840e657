/**
 * What the rules benchmark (`rules.ts`) puts in its typed document.
 *
 * The document is `conversation:<uuid>`; sender c appends messages
 * `{ id, author, text, ts }` to the Y.Array `messages`, one push per
 * transaction, with `author` its own DID, so the room's authorship rule runs
 * on every update. The schema allows no other fields, so the sender index,
 * the sequence number and the send time (ms on the shared clock, to the
 * microsecond) travel in the message id: `b<c>-<n>-<t>`; `ts` is the same
 * time in whole ms, as the schema wants.
 */
import * as Y from 'yjs'

export const MESSAGES = 'messages'

export interface BenchMessage {
  id: string
  author: string
  text: string
  ts: number
}

export function benchMessage(c: number, n: number, t: number, author: string): BenchMessage {
  return { id: `b${c}-${n}-${t.toFixed(3)}`, author, text: `message ${n} from sender ${c}`, ts: Math.floor(t) }
}

export interface MessageKey {
  c: number
  n: number
  t: number
}

const ID = /^b(\d+)-(\d+)-(\d+(?:\.\d+)?)$/

/** The sender, sequence number and send time of a benchmark message, or null for any other value. */
export function messageKey(value: unknown): MessageKey | null {
  const id = (value as { id?: unknown } | null)?.id
  if (typeof id !== 'string') return null
  const m = ID.exec(id)
  return m === null ? null : { c: Number(m[1]), n: Number(m[2]), t: Number(m[3]) }
}

/**
 * Calls `each` for every value the transaction added to the document, from
 * the structs it created: unlike `event.changes`, which walks the whole
 * array on every transaction, this costs only what is new.
 */
export function forEachAdded(doc: Y.Doc, tr: Y.Transaction, each: (value: unknown) => void): void {
  for (const [client, after] of tr.afterState) {
    const before = tr.beforeState.get(client) ?? 0
    if (after <= before) continue
    const structs = doc.store.clients.get(client)
    if (!structs) continue
    for (let i = Y.findIndexSS(structs, before); i < structs.length; i++) {
      const struct = structs[i]
      if (!(struct instanceof Y.Item) || !(struct.content instanceof Y.ContentAny)) continue
      const skip = Math.max(0, before - struct.id.clock)
      for (let k = skip; k < struct.content.arr.length; k++) each(struct.content.arr[k])
    }
  }
}

/** Messages of each sender `doc` holds. */
export function countsBySender(doc: Y.Doc, senders: number): number[] {
  const counts = new Array<number>(senders).fill(0)
  for (const value of doc.getArray(MESSAGES).toArray()) {
    const key = messageKey(value)
    if (key !== null && key.c < senders) counts[key.c] = (counts[key.c] ?? 0) + 1
  }
  return counts
}

/** Entries missing from `counts` against `expected` (and extra ones, counted as missing too). */
export function missingAgainst(counts: readonly number[], expected: readonly number[]): number {
  let missing = 0
  for (let c = 0; c < expected.length; c++) missing += Math.abs((expected[c] ?? 0) - (counts[c] ?? 0))
  return missing
}
