/**
 * What a deleted document held stays deleted. The owner's delete
 * (`doc-http-room.ts`) records the document's state vector at that moment;
 * from then on every write loses the structs that vector covers before the
 * room applies it. Without this, any client that was offline at the delete
 * (a stock y-websocket client does not stop at close code 4410) would send
 * its whole copy back on its next connect, and the deleted content would
 * return for everyone.
 *
 * An update left with no structs whose deletions all fall in the erased
 * range is dropped whole: it is a stale client's copy of what was deleted.
 * Such a client's later edits cannot apply: they follow its own erased
 * structs (Yjs needs each client's clocks without gaps) or erased
 * neighbours, so they are asked for, like any update with missing
 * dependencies, until the room closes the socket (4422). Clients that
 * start after the delete write as usual.
 *
 * One row per room that was ever deleted, read once per wake; rooms never
 * deleted pay one failed read on wake and nothing per write.
 *
 * @example
 * ```ts
 * const erased = new ErasedHistory(ctx.storage)
 * erased.record(Y.encodeStateVector(doc)) // at the delete
 * const rest = erased.strip(update)       // at each write: null when nothing is left
 * ```
 */
import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'

export class ErasedHistory {
  private readonly storage: DurableObjectStorage
  /** Per Yjs client, the clock below which everything was deleted; null when nothing ever was. */
  private erased: Map<number, number> | null | undefined

  constructor(storage: DurableObjectStorage) {
    this.storage = storage
  }

  /** The owner deleted a document whose state vector was `stateVector`. */
  record(stateVector: Uint8Array): void {
    const merged = new Map(this.load() ?? [])
    for (const [client, clock] of Y.decodeStateVector(stateVector)) {
      merged.set(client, Math.max(clock, merged.get(client) ?? 0))
    }
    this.storage.sql.exec(
      'CREATE TABLE IF NOT EXISTS doc_erased (id INTEGER PRIMARY KEY CHECK (id = 1), sv BLOB NOT NULL)',
    )
    this.storage.sql.exec('INSERT OR REPLACE INTO doc_erased (id, sv) VALUES (1, ?)', encodeVector(merged))
    this.erased = merged
  }

  /** `update` without what was erased; null when nothing of it is left to write. */
  strip(update: Uint8Array): Uint8Array | null {
    const erased = this.load()
    if (erased === null || erased.size === 0) return update
    const rest = Y.diffUpdate(update, encodeVector(erased))
    const { structs, ds } = Y.decodeUpdate(rest)
    if (structs.length > 0) return rest
    for (const [client, ranges] of ds.clients) {
      const below = erased.get(client) ?? 0
      if (ranges.some((r) => r.clock + r.len > below)) return rest
    }
    return null
  }

  private load(): Map<number, number> | null {
    if (this.erased !== undefined) return this.erased
    try {
      const row = this.storage.sql.exec<{ sv: ArrayBuffer }>('SELECT sv FROM doc_erased').toArray()[0]
      this.erased = row === undefined ? null : Y.decodeStateVector(new Uint8Array(row.sv))
    } catch {
      // No such table: this room was never deleted.
      this.erased = null
    }
    return this.erased
  }
}

/** The binary form of a state vector (lib0 varUints: the count, then each client and its clock), as Yjs encodes one. */
function encodeVector(vector: Map<number, number>): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, vector.size)
  for (const [client, clock] of vector) {
    encoding.writeVarUint(encoder, client)
    encoding.writeVarUint(encoder, clock)
  }
  return encoding.toUint8Array(encoder)
}
