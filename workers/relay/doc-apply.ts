/**
 * What a document room does with one incoming Yjs update before any rule is
 * checked: apply it, learn which client ids it wrote with, and drop whatever
 * Yjs would hold back.
 *
 * Yjs keeps content whose dependencies it lacks ("pending" structs and
 * deletes) and integrates it when they arrive. A room does not: held-back
 * content has no sender once it integrates (the update that completes it may
 * be someone else's, who would then be blamed for it), it escapes every
 * check until then, and it costs memory nobody is charged for. So the room
 * keeps what integrates and drops the rest; its sender is asked, with sync
 * step 1, for everything the room lacks, and a y-protocols client answers
 * with the dependencies and the dropped part together. The room therefore
 * never holds pending content, which is why nothing here needs a budget in
 * bytes: the per-socket count of such updates is bounded by the caller.
 */
import type { CloseCode } from '@vivim/shared'
import * as decoding from 'lib0/decoding'
import * as Y from 'yjs'

export interface AppliedUpdate {
  /** Why Yjs could not apply the update, or null. */
  readonly error: string | null
  /** Whether the document changed. */
  readonly changed: boolean
  /** The client ids the update added structs for. */
  readonly written: readonly number[]
  /** How many of them the document had no struct of before. */
  readonly newClients: number
  /** Whether part of the update was dropped because the room lacks what it depends on. */
  readonly incomplete: boolean
  /**
   * What to store and relay: the update's own bytes when all of it applied and none of it was
   * already known, else Yjs' encoding of what this update changed (re-encoding costs more than
   * applying, so only then).
   */
  readonly effective: readonly Uint8Array[]
}

/** Whether Yjs holds structs or deletes of this doc back, waiting for updates they depend on. */
function hasPendingContent(doc: Y.Doc): boolean {
  return doc.store.pendingStructs !== null || doc.store.pendingDs !== null
}

/**
 * Whether the update carries structs the document already has. Yjs skips those (it never checks
 * that they are the same), so they escaped every check: relaying the received bytes would hand
 * whatever they hold, a forgery under someone else's client id included, to every other replica.
 */
export function overlaps(doc: Y.Doc, update: Uint8Array): boolean {
  const single = singleClientStart(update)
  if (single === 'none') return false
  if (single !== null) return single.clock < Y.getState(doc.store, single.client)
  for (const [client, clock] of Y.parseUpdateMeta(update).from) {
    if (clock < Y.getState(doc.store, client)) return true
  }
  return false
}

/**
 * Where a v1 update of one client's structs starts, read from its header alone: the number of
 * clients, then that client's number of structs, its id and its first clock, the same clock
 * `parseUpdateMeta` reports (which decodes every struct to get it, most of the room's cost of
 * this check). `'none'` for an update without structs; null when it is not that simple (several
 * clients, or a header that does not parse), for `parseUpdateMeta` to answer.
 */
function singleClientStart(update: Uint8Array): { client: number; clock: number } | 'none' | null {
  try {
    const decoder = decoding.createDecoder(update)
    const clients = decoding.readVarUint(decoder)
    if (clients === 0) return 'none'
    if (clients !== 1) return null
    const structs = decoding.readVarUint(decoder)
    const client = decoding.readVarUint(decoder)
    const clock = decoding.readVarUint(decoder)
    return structs === 0 ? 'none' : { client, clock }
  } catch {
    return null
  }
}

/** Why a write was refused: the code and reason a socket is closed with. */
export interface Refusal {
  readonly code: CloseCode
  readonly reason: string
}

/** Applies `update` to `doc` (which holds nothing pending) with `origin`, keeping only what integrates. */
export function applyIncoming(doc: Y.Doc, update: Uint8Array, origin: unknown): AppliedUpdate {
  let changed = false
  let reencode = false
  let incomplete = false
  let newClients = 0
  const written: number[] = []
  const encoded: Uint8Array[] = []
  const collect = (u: Uint8Array) => encoded.push(u)
  // Yjs encodes a transaction's update only for 'update' listeners, right after this event.
  const cleaned = (tr: Y.Transaction) => {
    changed = tr.changed.size > 0 || tr.deleteSet.clients.size > 0
    for (const [client, after] of tr.afterState) {
      const before = tr.beforeState.get(client) ?? 0
      if (after > before) written.push(client)
      if (before === 0 && after > 0) newClients++
    }
    incomplete = hasPendingContent(doc)
    if (incomplete || reencode) doc.on('update', collect)
  }
  doc.on('afterTransactionCleanup', cleaned)
  let error: string | null = null
  try {
    reencode = overlaps(doc, update)
    Y.applyUpdate(doc, update, origin)
  } catch {
    error = 'Yjs cannot apply this update'
  } finally {
    doc.off('afterTransactionCleanup', cleaned)
    doc.off('update', collect)
    doc.store.pendingStructs = null
    doc.store.pendingDs = null
  }
  const effective = incomplete || reencode ? encoded : changed ? [update] : []
  return { error, changed, written, newClients, incomplete, effective }
}

/** A merged flush must fit one SQLite value (2 MB in a Durable Object); a burst is stored as several rows. */
const MAX_ROW_BYTES = 1 << 20

/** `updates` in order, grouped so each group's bytes stay within one row (a single update always fits: frames are smaller). */
export function storableBatches(updates: readonly Uint8Array[]): Uint8Array[][] {
  const batches: Uint8Array[][] = []
  let batch: Uint8Array[] = []
  let bytes = 0
  for (const update of updates) {
    if (batch.length > 0 && bytes + update.length > MAX_ROW_BYTES) {
      batches.push(batch)
      batch = []
      bytes = 0
    }
    batch.push(update)
    bytes += update.length
  }
  if (batch.length > 0) batches.push(batch)
  return batches
}
