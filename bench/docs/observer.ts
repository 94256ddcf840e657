/**
 * The observer of a document load row: one client that never writes. For
 * every entry that reaches its Y.Doc it takes arrival time (of the WebSocket
 * frame that carried it) minus the entry's embedded send time: the fan-out
 * latency from a sender, through the server, to another client. Only
 * entries sent inside the measured window count for latency; delivered
 * throughput counts entries that arrive inside the window, whenever they
 * were sent.
 *
 * Two ways to find the entries: `run.ts`'s senders each append `{ c, n, t }`
 * to their own array, observed per array; `rules.ts`'s senders append
 * messages to one `messages` array, read from each transaction's new structs
 * (`forEachAdded`), which costs only what is new.
 */
import type * as Y from 'yjs'
import { DocClient } from './doc-client.ts'
import { type ClosedSocket, closedSocket, isEntry, missingEntries, senderArray } from './load-protocol.ts'
import { forEachAdded, messageKey, missingAgainst } from './rules-load.ts'
import { type Framing, framing } from './wire-dialects.ts'

const MAX_TIMELINE_S = 3_600

/** What reached the observer, and when. */
export class Arrivals {
  /** Latencies (ms) of entries sent in the window, in arrival order. */
  readonly latencies: number[] = []
  deliveredInWindow = 0
  /** Entries that arrived in each second from the senders' start (warm-up, window and drain): shows stalls. */
  readonly perSecond: number[] = []
  /** Entries received from each sender. */
  readonly counts: number[]
  /** Entries that arrived out of order for their sender (should stay 0: Yjs orders them). */
  outOfOrder = 0
  private readonly lastSeq: number[]
  private origin = Number.POSITIVE_INFINITY
  private from = Number.POSITIVE_INFINITY
  private to = Number.POSITIVE_INFINITY

  constructor(senders: number) {
    this.counts = new Array<number>(senders).fill(0)
    this.lastSeq = new Array<number>(senders).fill(-1)
  }

  /** When the senders start, and the measured window, on the shared clock. */
  setWindow(origin: number, from: number, to: number): void {
    this.origin = origin
    this.from = from
    this.to = to
  }

  /** Sender `c`'s entry `n`, sent at `sentAt`, arrived at `arrivedAt`. */
  record(c: number, n: number, sentAt: number, arrivedAt: number): void {
    this.counts[c] = (this.counts[c] ?? 0) + 1
    if (n !== (this.lastSeq[c] ?? -1) + 1) this.outOfOrder++
    this.lastSeq[c] = n
    const second = Math.floor((arrivedAt - this.origin) / 1000)
    if (second >= 0 && second < MAX_TIMELINE_S) {
      for (let i = this.perSecond.length; i <= second; i++) this.perSecond.push(0)
      this.perSecond[second] = (this.perSecond[second] ?? 0) + 1
    }
    if (arrivedAt >= this.from && arrivedAt < this.to) this.deliveredInWindow++
    if (sentAt >= this.from && sentAt < this.to) this.latencies.push(arrivedAt - sentAt)
  }
}

/** An open observer. */
export interface Observer {
  readonly arrivals: Arrivals
  /** Entries it lacks against `expected` (entries per sender). */
  missing(expected: readonly number[]): number
  /** Why the server closed its socket, if it did. */
  closedSocket(stopAt: number): ClosedSocket | null
  close(): Promise<void>
}

function observer(client: DocClient, arrivals: Arrivals, missing: Observer['missing']): Observer {
  return {
    arrivals,
    missing,
    closedSocket: (stopAt) =>
      client.closed === null ? null : closedSocket('observer', client.closed, client.closedAt, stopAt),
    close: () => client.close(),
  }
}

/** `run.ts`'s observer: each sender's array `s<c>` observed for the entries it gains. */
export async function openFanoutObserver(url: string, wire: Framing, senders: number, timeoutMs: number) {
  const arrivals = new Arrivals(senders)
  const client = await DocClient.connect(url, wire, timeoutMs, {
    prepare: (client) => {
      for (let c = 0; c < senders; c++) {
        senderArray(client.doc, c).observe((event) => {
          const at = client.lastFrameAt
          for (const op of event.changes.delta) {
            if (!Array.isArray(op.insert)) continue
            for (const value of op.insert) if (isEntry(value)) arrivals.record(value.c, value.n, value.t, at)
          }
        })
      }
    },
  })
  return observer(client, arrivals, (expected) => missingEntries(client.doc, expected))
}

/** `rules.ts`'s observer: the messages each transaction added, keyed by their ids. */
export async function openRulesObserver(url: string, senders: number, timeoutMs: number) {
  const arrivals = new Arrivals(senders)
  const client = await DocClient.connect(url, framing('yjs', ''), timeoutMs, {
    prepare: (client) => {
      client.doc.on('afterTransaction', (tr: Y.Transaction) => {
        const at = client.lastFrameAt
        forEachAdded(client.doc, tr, (value) => {
          const key = messageKey(value)
          if (key !== null && key.c < senders) arrivals.record(key.c, key.n, key.t, at)
        })
      })
    },
  })
  return observer(client, arrivals, (expected) => missingAgainst(arrivals.counts, expected))
}
