/**
 * `LiveDoc`, a document room's document in memory and on its way to
 * storage: loaded on first use (snapshot, then the log, then what is
 * pending), updates pending until the next flush, flushes coalesced, and
 * compaction. The room decides what may be written and who hears of it;
 * this class decides when it is stored.
 *
 * Writes are coalesced: the effective updates that arrive while a flush is
 * pending are merged into one, written to SQLite as one log row, then
 * handed to `onFlushed` (which sends one frame to every socket). The first
 * update after an idle spell flushes at once, so latency stays low at light
 * load; under load a socket gets one frame per flush window instead of one
 * per update.
 *
 * @example
 * ```ts
 * const live = new LiveDoc(ctx.storage, { onFlushed: (update) => broadcast(update), writer: () => null })
 * live.add(effectiveUpdates) // stored and handed on within the flush window
 * ```
 */
import {
  createSchemaGuard,
  type DocType,
  defineRoots,
  parseDocId,
  type SchemaGuard,
  type WriterOf,
} from '@vivim/shared'
import * as Y from 'yjs'
import { storableBatches } from './doc-apply.ts'
import { DocStore } from './doc-store.ts'

/** How long updates gather before a flush, once the room is busy. */
const FLUSH_WINDOW_MS = 5

export interface LoadedDoc {
  readonly doc: Y.Doc
  readonly type: DocType | null
  readonly guard: SchemaGuard | null
}

/** A document's state as another part of the edge reads it (`DocRoom.remoteState`). */
export interface RemoteState {
  readonly stateVector: Uint8Array
  /** What the room holds beyond the state vector asked about, when one was. */
  readonly diff: Uint8Array | null
}

export interface LiveDocInit {
  /** One merged update was stored; `origin` is the peer instance all of it came from, if one did. */
  readonly onFlushed: (update: Uint8Array, origin: string | null) => void
  /** Who writes the update being applied, for the schema guard's rules. */
  readonly writer: WriterOf
  /** Compaction folded the log into `state`, the whole document: a moment worth keeping (a version). */
  readonly onCompacted?: (state: Uint8Array) => void
}

export class LiveDoc {
  readonly store: DocStore
  private readonly init: LiveDocInit
  private loaded: LoadedDoc | null = null
  private pending: Uint8Array[] = []
  private flushTimer: ReturnType<typeof setTimeout> | null = null
  private lastFlushAt = 0

  constructor(storage: DurableObjectStorage, init: LiveDocInit) {
    this.store = new DocStore(storage)
    this.init = init
  }

  /** The document, loaded on first use after start or wake. */
  get(): LoadedDoc {
    if (this.loaded) return this.loaded
    const docId = this.store.docId()
    const type = docId === null ? null : parseDocId(docId).type
    const doc = new Y.Doc()
    if (type !== null) defineRoots(doc, type)
    const stored = this.store.load()
    if (stored.snapshot) Y.applyUpdate(doc, stored.snapshot)
    for (const update of stored.updates) Y.applyUpdate(doc, update)
    for (const update of this.pending) Y.applyUpdate(doc, update)
    const guard = type === null ? null : createSchemaGuard(doc, type, this.init.writer)
    this.loaded = { doc, type, guard }
    return this.loaded
  }

  /** Throws the in-memory document away; the next use reloads what is stored plus what is pending. */
  rollback(): void {
    this.loaded?.guard?.destroy()
    this.loaded?.doc.destroy()
    this.loaded = null
  }

  /** Updates already applied to the loaded document, to be stored by the next flush. */
  add(updates: readonly Uint8Array[]): void {
    if (updates.length === 0) return
    this.pending.push(...updates)
    if (this.flushTimer !== null) return
    const idle = Date.now() - this.lastFlushAt >= FLUSH_WINDOW_MS
    this.flushTimer = setTimeout(() => this.flush(), idle ? 0 : FLUSH_WINDOW_MS)
  }

  /**
   * Stores what is pending as one log row (or a few, when large), then hands
   * each on; `origin` says that everything pending came from that peer.
   */
  flush(origin: string | null = null): void {
    if (this.flushTimer !== null) clearTimeout(this.flushTimer)
    this.flushTimer = null
    for (const batch of storableBatches(this.pending)) {
      const merged = batch.length === 1 ? (batch[0] as Uint8Array) : Y.mergeUpdates(batch)
      this.store.append(merged)
      this.init.onFlushed(merged, origin)
    }
    this.pending = []
    this.lastFlushAt = Date.now()
    if (this.store.shouldCompact()) this.compact()
  }

  /** Replaces the log with a snapshot of the document. */
  compact(): void {
    const state = Y.encodeStateAsUpdate(this.get().doc)
    this.store.compact(state)
    this.init.onCompacted?.(state)
  }
}
