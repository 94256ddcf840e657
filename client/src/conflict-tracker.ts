/**
 * Tells the provider when a sync merges concurrent changes (the Conflict
 * state) and when the edge holds every local change (back to Synced), using
 * the vector clocks of `@vivim/shared` over Yjs state vectors.
 */
import { compareClocks, fromStateVector } from '@vivim/shared'
import * as Y from 'yjs'

export class ConflictTracker {
  private readonly doc: Y.Doc
  /** The local clock the edge must reach for every local change to be stored there. */
  private waitingFor: number | null = null

  constructor(doc: Y.Doc) {
    this.doc = doc
  }

  /** Whether the edge's state and ours each hold changes the other lacks. */
  concurrentWith(edgeStateVector: Uint8Array): boolean {
    const edge = fromStateVector(edgeStateVector)
    this.acknowledgeClock(edge[String(this.doc.clientID)] ?? 0)
    return compareClocks(fromStateVector(Y.encodeStateVector(this.doc)), edge) === 'concurrent'
  }

  /** A local change was made. */
  local(): void {
    this.waitingFor = Y.getState(this.doc.store, this.doc.clientID)
  }

  /**
   * An update came back from the edge: it holds what it contains. The end of
   * our own client's range is read from the update's structs: a state vector
   * of the update would count a client only if its range starts at clock 0,
   * so every change after the first would never be acknowledged.
   */
  acknowledge(update: Uint8Array): void {
    this.acknowledgeClock(Y.parseUpdateMeta(update).to.get(this.doc.clientID) ?? 0)
  }

  pending(): boolean {
    return this.waitingFor !== null
  }

  private acknowledgeClock(clock: number): void {
    if (this.waitingFor !== null && clock >= this.waitingFor) this.waitingFor = null
  }
}
