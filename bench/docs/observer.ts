/**
 * The observer: one client that never writes. For every entry that reaches
 * its Y.Doc it takes arrival time (of the WebSocket frame that carried it)
 * minus the entry's embedded send time: the fan-out latency from a sender,
 * through the server, to another client. Only entries sent inside the
 * measured window count for latency; delivered throughput counts entries
 * that arrive inside the window, whenever they were sent.
 */
import { DocClient } from './doc-client.ts'
import { type ClosedSocket, closedSocket, isEntry, missingEntries, senderArray } from './load-protocol.ts'
import type { Framing } from './wire-dialects.ts'

const MAX_TIMELINE_S = 3_600

export class FanoutObserver {
  /** Latencies (ms) of entries sent in the window, in arrival order. */
  readonly latencies: number[] = []
  deliveredInWindow = 0
  /** Entries that arrived in each second from the senders' start (warm-up, window and drain): shows stalls. */
  readonly perSecond: number[] = []
  received = 0
  /** Entries that arrived out of order for their sender (should stay 0: Yjs orders them). */
  outOfOrder = 0
  private origin = Number.POSITIVE_INFINITY
  private from = Number.POSITIVE_INFINITY
  private to = Number.POSITIVE_INFINITY
  private readonly lastSeq: number[]
  private client: DocClient | null = null

  private constructor(senders: number) {
    this.lastSeq = new Array<number>(senders).fill(-1)
  }

  static async open(url: string, wire: Framing, senders: number, timeoutMs: number): Promise<FanoutObserver> {
    const observer = new FanoutObserver(senders)
    observer.client = await DocClient.connect(url, wire, timeoutMs, {
      prepare: (client) => {
        for (let c = 0; c < senders; c++) {
          senderArray(client.doc, c).observe((event) => {
            const at = client.lastFrameAt
            for (const op of event.changes.delta) {
              if (!Array.isArray(op.insert)) continue
              for (const value of op.insert) if (isEntry(value)) observer.record(value.c, value.n, value.t, at)
            }
          })
        }
      },
    })
    return observer
  }

  /** When the senders start, and the measured window, on the shared clock. */
  setWindow(origin: number, from: number, to: number): void {
    this.origin = origin
    this.from = from
    this.to = to
  }

  missing(expected: readonly number[]): number {
    return this.client === null ? expected.reduce((a, b) => a + b, 0) : missingEntries(this.client.doc, expected)
  }

  /** Why the observer's socket closed, if the server closed it. */
  closedSocket(stopAt: number): ClosedSocket | null {
    if (this.client === null) return closedSocket('observer', 'not connected', null, stopAt)
    const { closed, closedAt } = this.client
    return closed === null ? null : closedSocket('observer', closed, closedAt, stopAt)
  }

  async close(): Promise<void> {
    await this.client?.close()
  }

  private record(sender: number, seq: number, sentAt: number, arrivedAt: number): void {
    this.received++
    if (seq !== (this.lastSeq[sender] ?? -1) + 1) this.outOfOrder++
    this.lastSeq[sender] = seq
    const second = Math.floor((arrivedAt - this.origin) / 1000)
    if (second >= 0 && second < MAX_TIMELINE_S) {
      for (let i = this.perSecond.length; i <= second; i++) this.perSecond.push(0)
      this.perSecond[second] = (this.perSecond[second] ?? 0) + 1
    }
    if (arrivedAt >= this.from && arrivedAt < this.to) this.deliveredInWindow++
    if (sentAt >= this.from && sentAt < this.to) this.latencies.push(arrivedAt - sentAt)
  }
}
