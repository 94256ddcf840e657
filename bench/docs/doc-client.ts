/**
 * A light Yjs client: one `ws` socket, one Y.Doc, y-protocols framing done by
 * hand (no provider, no awareness), so that twenty of them cost little CPU.
 * Every local transaction on `doc` is sent as a sync `update` message; sync
 * step 1 from the server is answered with step 2; updates from the server are
 * applied at once, or queued until `applyQueued()` applies them
 * when `deferApply` is set (the senders, which write only to their own array
 * and need to hold every update only by the completeness check).
 */
import WebSocket from 'ws'
import * as Y from 'yjs'
import { now } from '../lib/worker-pool.ts'
import type { Framing } from './wire-dialects.ts'

/** Transaction origin of everything that came from the server. */
export const REMOTE = Symbol('remote')

export interface SyncTimings {
  startedAt: number
  openAt: number | null
  step2ReceivedAt: number | null
  step2AppliedAt: number | null
  step2Bytes: number
}

export interface DocClientOptions {
  readonly deferApply?: boolean
  /** Local transactions are not sent; the caller sends with `sendUpdate()` (to batch them). */
  readonly manualSend?: boolean
  /** Runs before the socket opens, so observers on `client.doc` see the very first update. */
  readonly prepare?: (client: DocClient) => void
}

export class DocClient {
  readonly doc = new Y.Doc()
  readonly timings: SyncTimings = {
    startedAt: now(),
    openAt: null,
    step2ReceivedAt: null,
    step2AppliedAt: null,
    step2Bytes: 0,
  }
  /** Arrival time of the frame being applied (read it from Y.Doc observers, which run inside the apply). */
  lastFrameAt = 0
  framesIn = 0
  bytesIn = 0
  /** Why the socket closed or failed, once it has (not set by our own `close()`). */
  closed: string | null = null
  /** When `closed` was set, on the shared clock. */
  closedAt: number | null = null
  /** Test hook: the next local update is dropped instead of sent (checks that loss is detected). */
  dropNextLocalUpdate = false
  private readonly ws: WebSocket
  private readonly framing: Framing
  private readonly options: DocClientOptions
  private readonly queued: Uint8Array[] = []
  private closing = false
  private step2Waiters: Array<() => void> = []

  private constructor(url: string, framing: Framing, options: DocClientOptions) {
    this.framing = framing
    this.options = options
    options.prepare?.(this)
    this.ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 512 * 1024 * 1024 })
    this.ws.binaryType = 'nodebuffer'
    this.doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin === REMOTE || options.manualSend) return
      if (this.dropNextLocalUpdate) {
        this.dropNextLocalUpdate = false
        return
      }
      this.send(this.framing.update(update))
    })
    this.ws.on('open', () => {
      this.timings.openAt = now()
      for (const frame of this.framing.hello()) this.send(frame)
      this.send(this.framing.syncStep1(Y.encodeStateVector(this.doc)))
    })
    this.ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      if (isBinary) this.receive(toBytes(data))
    })
    this.ws.on('close', (code: number, reason: Buffer) => {
      this.markClosed(`closed ${code}${reason.length > 0 ? ` ${reason.toString()}` : ''}`)
    })
    this.ws.on('error', (error: Error) => {
      this.markClosed(`error: ${error.message}`)
    })
  }

  /** Opens a socket and resolves once the server's sync step 2 is applied; rejects after `timeoutMs`. */
  static async connect(url: string, framing: Framing, timeoutMs: number, options: DocClientOptions = {}) {
    const client = new DocClient(url, framing, options)
    try {
      await client.untilStep2(timeoutMs)
    } catch (error) {
      client.ws.terminate()
      throw error
    }
    return client
  }

  get synced(): boolean {
    return this.timings.step2AppliedAt !== null
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount
  }

  /** Sends sync step 1 and waits for the step 2 answer: everything sent before it has been processed. */
  async roundTrip(timeoutMs: number): Promise<void> {
    const answered = this.untilStep2(timeoutMs, true)
    this.send(this.framing.syncStep1(Y.encodeStateVector(this.doc)))
    await answered
  }

  /** Sends `update` (a Yjs update, for example several merged) as one sync `update` message. */
  sendUpdate(update: Uint8Array): void {
    this.send(this.framing.update(update))
  }

  applyQueued(): void {
    if (this.queued.length === 0) return
    const updates = this.queued.splice(0, this.queued.length)
    // One transaction; Y.mergeUpdates first would be several times slower.
    this.doc.transact(() => {
      for (const update of updates) Y.applyUpdate(this.doc, update, REMOTE)
    }, REMOTE)
  }

  async close(timeoutMs = 2_000): Promise<void> {
    this.closing = true
    if (this.ws.readyState === WebSocket.CLOSED) return
    const done = new Promise<void>((resolve) => this.ws.once('close', () => resolve()))
    this.ws.close(1000)
    const timer = setTimeout(() => this.ws.terminate(), timeoutMs)
    await done
    clearTimeout(timer)
    this.doc.destroy()
  }

  private markClosed(why: string): void {
    if (this.closed !== null || this.closing) return
    this.closed = why
    this.closedAt = now()
  }

  private send(frame: Uint8Array): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(frame)
  }

  private untilStep2(timeoutMs: number, next = false): Promise<void> {
    if (!next && this.synced) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail(`no sync step 2 within ${timeoutMs} ms`), timeoutMs)
      const poll = setInterval(() => this.closed !== null && fail(this.closed), 50)
      const fail = (why: string) => {
        clearTimeout(timer)
        clearInterval(poll)
        reject(new Error(why))
      }
      this.step2Waiters.push(() => {
        clearTimeout(timer)
        clearInterval(poll)
        resolve()
      })
    })
  }

  private receive(frame: Uint8Array): void {
    const receivedAt = now()
    this.lastFrameAt = receivedAt
    this.framesIn++
    this.bytesIn += frame.byteLength
    const message = this.framing.decode(frame)
    switch (message.kind) {
      case 'step1':
        this.send(this.framing.syncStep2(Y.encodeStateAsUpdate(this.doc, message.stateVector)))
        return
      case 'step2':
        this.applyQueued()
        if (this.timings.step2ReceivedAt === null) {
          this.timings.step2ReceivedAt = receivedAt
          this.timings.step2Bytes = message.update.byteLength
        }
        Y.applyUpdate(this.doc, message.update, REMOTE)
        this.timings.step2AppliedAt ??= now()
        for (const wake of this.step2Waiters.splice(0)) wake()
        return
      case 'update':
        if (this.options.deferApply) {
          this.queued.push(message.update)
          return
        }
        Y.applyUpdate(this.doc, message.update, REMOTE)
        return
      case 'denied':
        this.markClosed(`permission denied: ${message.reason}`)
        this.ws.close()
        return
      case 'closed':
        this.markClosed(`server closed the document: ${message.reason}`)
        return
      default:
        return
    }
  }
}

function toBytes(data: WebSocket.RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data)
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data
}
