/**
 * The soak's document clients: SDK providers (`VivimDocProvider`, each with
 * a fresh Y.Doc, as a page load would have) that join a pool of documents,
 * write small updates, and leave, so the edge keeps opening, serving and
 * closing rooms and sockets for the whole run.
 *
 * A write sets one of a few slot keys of the document's map to the time it
 * was made; every other client of the document times the update's arrival
 * against it. Slots are overwritten rather than added so a document stays
 * small: what the soak should see grow is the edge, not the data it was given.
 * Only writes made after a client synced are timed by it: a joiner's first
 * sync brings older writes, and their age is not a delivery latency.
 */
import * as Y from 'yjs'
import { VivimDocProvider } from '../../client/src/doc-provider.ts'
import type { Meter } from './meter.ts'

/** Keys a document's writers share; few, so overwrites keep the document small. */
const SLOTS = 8

interface DocClient {
  readonly provider: VivimDocProvider
  /** When it synced (performance.now()), or null while it has not. */
  syncedAt: number | null
}

/** How the document clients are set up. */
export interface DocChurnInit {
  /** The edge, `ws://host:port`. */
  readonly edge: string
  /** Names the documents apart from any earlier run's. */
  readonly runId: string
  readonly docs: number
  readonly clients: number
}

/** The document clients of the soak: `join`, `write` and `churn` are driven by `run.ts`'s timers. */
export class DocChurn {
  private readonly clients: DocClient[] = []
  private readonly WebSocket: typeof WebSocket
  private readonly init: DocChurnInit
  private readonly meter: Meter

  constructor(init: DocChurnInit, meter: Meter) {
    this.init = init
    this.meter = meter
    this.WebSocket = meter.countingWebSocket('docs')
  }

  /** Clients now in the pool (connected or connecting). */
  get size(): number {
    return this.clients.length
  }

  /** Opens clients until `clients` are in the pool. */
  fill(): void {
    while (this.clients.length < this.init.clients) this.join()
  }

  /** One new client on a random document. */
  private join(): void {
    const docId = `soak-${this.init.runId}-${Math.floor(Math.random() * this.init.docs)}`
    const doc = new Y.Doc()
    const provider = new VivimDocProvider(this.init.edge, docId, doc, { WebSocket: this.WebSocket })
    const client: DocClient = { provider, syncedAt: null }
    provider.on('sync', (synced) => {
      if (synced && client.syncedAt === null) client.syncedAt = performance.now()
    })
    provider.on('error', (error) => this.meter.error('document socket', error))
    doc.getMap<number>('slots').observe((event) => {
      if (event.transaction.origin !== provider || client.syncedAt === null) return
      const at = performance.now()
      for (const key of event.keysChanged) {
        const writtenAt = event.target.get(key)
        // Written after this client synced: a live delivery, not history its sync brought.
        if (typeof writtenAt !== 'number' || writtenAt < client.syncedAt) continue
        this.meter.latency('doc', at - writtenAt)
        this.meter.count('doc deliveries')
      }
    })
    this.clients.push(client)
    this.meter.count('doc joins')
  }

  /** Closes the client at `index` for good. */
  private leave(index: number): void {
    const [client] = this.clients.splice(index, 1)
    if (client === undefined) return
    client.provider.destroy()
    client.provider.doc.destroy()
    this.meter.count('doc leaves')
  }

  /** `pct`% of the clients (at least one when pct > 0) leave, and as many join. */
  churn(pct: number): void {
    const replaced = pct === 0 ? 0 : Math.max(1, Math.round((this.clients.length * pct) / 100))
    for (let i = 0; i < replaced && this.clients.length > 0; i++) {
      this.leave(Math.floor(Math.random() * this.clients.length))
    }
    this.fill()
  }

  /** A small update by a random synced client: one slot of its document set to now. */
  write(): void {
    const synced = this.clients.filter((c) => c.syncedAt !== null && c.provider.synced)
    const client = synced[Math.floor(Math.random() * synced.length)]
    if (client === undefined) {
      this.meter.count('doc writes skipped')
      return
    }
    const slot = `s${Math.floor(Math.random() * SLOTS)}`
    client.provider.doc.getMap<number>('slots').set(slot, performance.now())
    this.meter.count('doc writes')
  }

  /** Closes every client. */
  stop(): void {
    while (this.clients.length > 0) this.leave(this.clients.length - 1)
  }
}
