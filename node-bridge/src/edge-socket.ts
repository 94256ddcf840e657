/**
 * One WebSocket to the edge that comes back by itself: on a close or a
 * failed dial it waits a back-off delay with jitter (`backoff.ts`) and
 * dials again, for as long as it is not stopped. The bridge's link
 * (`/v1/bridge`) and each topic room (`/v1/topics/<topic>`) ride on one
 * each; what they do while it is down is theirs to decide (the mesh keeps
 * working either way).
 *
 * @example
 * ```ts
 * const socket = new EdgeSocket({ url: async () => 'ws://127.0.0.1:8787/v1/bridge', onOpen, onFrame })
 * socket.start()
 * socket.send(bytes) // false while it is down
 * await socket.stop()
 * ```
 */
import { Backoff } from '@vivim/shared'
import WebSocket from 'ws'
import { type Logger, silentLogger } from './log.ts'

/** Where an edge socket is: dialing, open, waiting to retry, or stopped. */
export type EdgeSocketState = 'connecting' | 'open' | 'waiting' | 'stopped'

/** Where to connect and what to call on each event. */
export interface EdgeSocketInit {
  /** The URL to dial, built afresh for each attempt (a fresh credential, a resume point). */
  url: () => Promise<string>
  /** Each binary frame received. */
  onFrame: (bytes: Uint8Array) => void
  /** Called on each successful connect. */
  onOpen?: () => void
  /** Called on each close, with its code and reason. */
  onClose?: (code: number, reason: string) => void
  /** Each change of state. */
  onState?: (state: EdgeSocketState) => void
  /** First back-off cap, ms. */
  initialDelayMs?: number
  /** Largest back-off cap, ms. */
  maxDelayMs?: number
  /** What to call this socket in logs. */
  name: string
  log?: Logger
}

/** An open connection that stays up this long resets the back-off. */
const STABLE_MS = 10_000

/** A WebSocket to the edge that reconnects with back-off and jitter until stopped. */
export class EdgeSocket {
  private readonly init: EdgeSocketInit
  private readonly backoff: Backoff
  private readonly log: Logger
  private ws: WebSocket | null = null
  private timer: NodeJS.Timeout | null = null
  private openedAt = 0
  private current: EdgeSocketState = 'waiting'
  private failures = 0

  constructor(init: EdgeSocketInit) {
    this.init = init
    this.backoff = new Backoff({ initialMs: init.initialDelayMs ?? 500, maxMs: init.maxDelayMs ?? 30_000 })
    this.log = init.log ?? silentLogger
  }

  /** The current state. */
  get state(): EdgeSocketState {
    return this.current
  }

  /** Dials that failed or connections that dropped, since the last one that stayed up. */
  get retries(): number {
    return this.failures
  }

  /** Connects, and reconnects after every drop. */
  start(): void {
    if (this.current === 'stopped' || this.ws || this.timer) return
    void this.dial()
  }

  /** Sends a frame; false while the socket is not open. */
  send(bytes: Uint8Array): boolean {
    if (this.current !== 'open' || !this.ws) return false
    this.ws.send(bytes)
    return true
  }

  /** Closes the socket and stops reconnecting. */
  async stop(): Promise<void> {
    this.setState('stopped')
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    const ws = this.ws
    this.ws = null
    if (!ws || ws.readyState === WebSocket.CLOSED) return
    const closed = new Promise<void>((done) => ws.once('close', () => done()))
    if (ws.readyState === WebSocket.CONNECTING) ws.terminate()
    else ws.close(1000, 'bridge stopping')
    await Promise.race([closed, new Promise((done) => setTimeout(done, 2_000).unref())])
  }

  private setState(state: EdgeSocketState): void {
    if (this.current === state || this.current === 'stopped') return
    this.current = state
    this.init.onState?.(state)
  }

  private async dial(): Promise<void> {
    this.timer = null
    this.setState('connecting')
    let url: string
    try {
      url = await this.init.url()
    } catch (error) {
      this.log.warn('edge unreachable', { socket: this.init.name, error })
      this.retry()
      return
    }
    if (this.current === 'stopped') return
    const ws = new WebSocket(url, { handshakeTimeout: 10_000, maxPayload: 2 << 20 })
    ws.binaryType = 'nodebuffer'
    this.ws = ws
    ws.on('open', () => {
      this.openedAt = Date.now()
      this.setState('open')
      this.log.info('edge socket open', { socket: this.init.name })
      this.init.onOpen?.()
    })
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) this.init.onFrame(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
    })
    ws.on('unexpected-response', (_req, res) => {
      this.log.warn('edge refused the socket', { socket: this.init.name, status: res.statusCode })
      ws.terminate()
    })
    ws.on('error', (error) => this.log.debug('edge socket error', { socket: this.init.name, error: error.message }))
    ws.on('close', (code: number, reason: Buffer) => {
      if (this.ws !== ws) return
      this.ws = null
      this.init.onClose?.(code, reason.toString())
      if (this.current === 'stopped') return
      this.log.info('edge socket closed', { socket: this.init.name, code, reason: reason.toString() })
      this.retry()
    })
  }

  private retry(): void {
    if (this.current === 'stopped') return
    if (this.openedAt > 0 && Date.now() - this.openedAt > STABLE_MS) {
      this.backoff.reset()
      this.failures = 0
    }
    this.openedAt = 0
    this.failures++
    const delay = this.backoff.next()
    this.setState('waiting')
    this.log.debug('edge socket retry', { socket: this.init.name, delayMs: delay, attempt: this.backoff.attempts })
    this.timer = setTimeout(() => void this.dial(), delay)
  }
}
