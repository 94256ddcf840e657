/**
 * What the load puts in the document, and the messages between the runner
 * (main thread: observer, clock, checks) and the sender worker threads.
 *
 * Sender c appends `{ c, n, t }` (its index, its sequence number from 0, the
 * send time in ms on the shared clock `performance.timeOrigin +
 * performance.now()`) to the Y.Array `s<c>`, one push per transaction, so
 * each push is one small Yjs update in one sync `update` message. One array
 * per sender keeps the completeness check exact (array `s<c>` must hold as
 * many entries as sender c sent) and keeps Yjs conflict resolution out of
 * what is measured: the servers relay, the clients append.
 */
import type * as Y from 'yjs'
import type { Dialect } from './wire-dialects.ts'

export interface Entry {
  c: number
  n: number
  t: number
}

export function senderArray(doc: Y.Doc, sender: number): Y.Array<Entry> {
  return doc.getArray<Entry>(`s${sender}`)
}

export function isEntry(value: unknown): value is Entry {
  if (typeof value !== 'object' || value === null) return false
  const v = value as Record<string, unknown>
  return typeof v.c === 'number' && typeof v.n === 'number' && typeof v.t === 'number'
}

/** Entries missing from `doc` against `expected[c]` per sender (and extra ones, counted as missing too). */
export function missingEntries(doc: Y.Doc, expected: readonly number[]): number {
  let missing = 0
  for (let c = 0; c < expected.length; c++) {
    missing += Math.abs((expected[c] ?? 0) - senderArray(doc, c).length)
  }
  return missing
}

/** A socket the server closed (or that failed), and when, relative to the senders' stop. */
export interface ClosedSocket {
  who: string
  why: string
  /** Seconds after the senders stopped (negative: before); null if unknown. */
  atS: number | null
}

export function closedSocket(who: string, why: string, closedAt: number | null, stopAt: number): ClosedSocket {
  return { who, why, atS: closedAt === null || !Number.isFinite(stopAt) ? null : (closedAt - stopAt) / 1000 }
}

/** "21 sockets closed 1006 (from 5.0 s before to 4.9 s before the senders stopped): observer, sender 0, ...". */
export function describeClosed(closed: readonly ClosedSocket[]): string[] {
  const when = (s: number) => `${Math.abs(s).toFixed(1)} s ${s < 0 ? 'before' : 'after'}`
  const byWhy = new Map<string, ClosedSocket[]>()
  for (const c of closed) byWhy.set(c.why, [...(byWhy.get(c.why) ?? []), c])
  return [...byWhy].map(([why, list]) => {
    const times = list.flatMap((c) => (c.atS === null ? [] : [c.atS]))
    const span =
      times.length === 0
        ? ''
        : ` (${when(Math.min(...times))}${times.length > 1 ? ` to ${when(Math.max(...times))}` : ''} the senders stopped)`
    const who = list.length > 3 ? `${list.length} sockets` : list.map((c) => c.who).join(', ')
    return `${who}: ${why}${span}`
  })
}

/** `workerData` of a sender worker (`sender-worker.ts`). */
export interface SenderSetup {
  /** Per sender of `senders`: the document URL it connects to (with its own token, in the rules benchmark). */
  urls: string[]
  dialect: Dialect
  documentName: string
  /** Global sender indexes this worker runs. */
  senders: number[]
  /**
   * Per sender of `senders`, its DID: each push is a message `{ id, author, text, ts }` to
   * `messages` (`rules-load.ts`); null: an entry `{ c, n, t }` to the sender's own array.
   */
  dids: string[] | null
  totalSenders: number
  ratePerSender: number
  connectTimeoutMs: number
  /** Drop sender `senders[0]`'s first measured update without telling anyone (checks the completeness check). */
  injectLoss: boolean
}

export type ToWorker =
  | { type: 'start'; startAt: number; measureFrom: number; stopAt: number }
  | { type: 'check'; expected: number[] }
  | { type: 'close' }

export interface SenderReport {
  /** Updates sent by each global sender index (0 for senders of other workers). */
  sent: number[]
  /** Updates sent in the measured window, all senders of this worker. */
  sentInWindow: number
  /** Event loop utilisation of this worker over the measured window (0..1). */
  eventLoopUtilization: number
  /** Largest number of updates one sender was behind its schedule at a tick. */
  maxLag: number
}

export interface CheckReport {
  /** Missing entries per client of this worker, in `senders` order. */
  missing: number[]
  /** Sockets of this worker the server closed, or that failed. */
  closed: ClosedSocket[]
}

export type FromWorker =
  | { type: 'ready' }
  | { type: 'stopped'; report: SenderReport }
  | { type: 'check'; report: CheckReport }
  | { type: 'closed' }
  | { type: 'error'; message: string }
