/**
 * The SDK's one reconnecting WebSocket, under the document provider, the
 * sealed-document provider and the topic subscription: each of them writes
 * only its protocol (what to send on open, what a frame means), and all of
 * them connect, fail and retry alike.
 *
 * - The URL's query is asked for on every connection (a resume point moves
 *   between connections), and the credential too (a token function is called
 *   again, so an expired token is replaced).
 * - Delays between attempts come from `reconnectBackoff()` (full jitter);
 *   an attempt that opened resets them.
 * - Every way a connection ends becomes a typed `VivimError`
 *   (`close-errors.ts`); an error that retrying cannot help (the edge
 *   refused the credential, the document, the frame) stops reconnecting.
 * - In a browser, coming back online retries at once instead of waiting out
 *   the delay.
 *
 * @example
 * ```ts
 * const socket = new ReconnectingSocket(
 *   { url: 'ws://127.0.0.1:8787/v1/topics/public:news', token },
 *   { opened: () => {}, message: (data) => console.log(data), closed: (error) => console.log(error) },
 * )
 * socket.connect()
 * ```
 */
import type { Backoff, VivimError } from '@vivim/shared'
import { reconnectBackoff } from './backoff.ts'
import { closeError, connectionError, isTerminal } from './close-errors.ts'
import { resolveToken, type TokenSource } from './http.ts'

/** The page's `online` event, where there is one (browsers; Node has none). */
const page = globalThis as {
  addEventListener?: (type: 'online', listener: () => void) => void
  removeEventListener?: (type: 'online', listener: () => void) => void
}

/** Where and how a `ReconnectingSocket` connects. */
export interface ReconnectingSocketInit {
  /** The socket's URL, without a query. */
  readonly url: string
  /** The query of the next connection, asked for on every attempt. */
  readonly query?: () => Record<string, string>
  /** The credential, sent as `?token=`; a function is called on every attempt. */
  readonly token?: TokenSource | undefined
  /** The `WebSocket` implementation; the platform's by default. */
  readonly WebSocket?: typeof WebSocket | undefined
}

/** What the protocol above the socket is told. */
export interface SocketHandlers {
  /** An attempt starts. */
  connecting?(): void
  /** The socket opened: the protocol's first frames go now. */
  opened(): void
  /** A frame arrived. */
  message(data: ArrayBuffer | string): void
  /** The socket closed or could not open: `error` is null for a close that is no error; `retrying` says whether another attempt is scheduled. */
  closed(error: VivimError | null, retrying: boolean): void
}

export class ReconnectingSocket {
  private readonly init: ReconnectingSocketInit
  private readonly handlers: SocketHandlers
  private readonly backoff: Backoff = reconnectBackoff()
  private ws: WebSocket | null = null
  private wanted = false
  private retryTimer: ReturnType<typeof setTimeout> | null = null

  constructor(init: ReconnectingSocketInit, handlers: SocketHandlers) {
    this.init = init
    this.handlers = handlers
  }

  /** Whether a socket is open now. */
  get isOpen(): boolean {
    return this.ws?.readyState === 1
  }

  /** Whether an attempt is scheduled. */
  get retrying(): boolean {
    return this.retryTimer !== null
  }

  /** Connects, and keeps reconnecting after drops until `disconnect` or an error retrying cannot help. */
  connect(): void {
    this.wanted = true
    if (this.ws === null && this.retryTimer === null) void this.open()
  }

  /** Closes the socket and stops reconnecting; a scheduled attempt is cancelled. */
  disconnect(code = 1000, reason = 'disconnect'): void {
    this.wanted = false
    this.cancelRetry()
    page.removeEventListener?.('online', this.onOnline)
    this.ws?.close(code, reason)
  }

  /** Closes the current socket only: the next attempt follows as after any drop (a dead connection). */
  drop(code: number, reason: string): void {
    this.ws?.close(code, reason)
  }

  /** Sends a frame if the socket is open; says whether it was sent. */
  send(frame: Uint8Array | string): boolean {
    if (this.ws?.readyState !== 1) return false
    this.ws.send(frame as Uint8Array<ArrayBuffer> | string)
    return true
  }

  private async open(): Promise<void> {
    if (!this.wanted) return
    this.handlers.connecting?.()
    const query = new URLSearchParams(this.init.query?.())
    try {
      const token = await resolveToken(this.init.token)
      if (token) query.set('token', token)
    } catch (cause) {
      return this.ended(connectionError(`could not get a token: ${(cause as Error).message}`), true)
    }
    if (!this.wanted) return
    const Impl = this.init.WebSocket ?? globalThis.WebSocket
    const search = query.toString()
    let ws: WebSocket
    try {
      ws = new Impl(search ? `${this.init.url}?${search}` : this.init.url)
    } catch (cause) {
      return this.ended(connectionError(`bad edge URL ${this.init.url}: ${(cause as Error).message}`), true)
    }
    ws.binaryType = 'arraybuffer'
    this.ws = ws
    let opened = false
    ws.onopen = () => {
      opened = true
      this.backoff.reset()
      this.handlers.opened()
    }
    ws.onmessage = (event) => this.handlers.message(event.data as ArrayBuffer | string)
    const closed = (code: number, reason: string) => {
      if (this.ws !== ws) return
      this.ws = null
      const error = opened ? closeError(code, reason) : connectionError(`cannot reach ${this.init.url}`)
      this.ended(error, error !== null && isTerminal(error, typeof this.init.token === 'function'))
    }
    ws.onclose = (event) => closed(event.code, event.reason)
    // Some WebSocket implementations (Node's among them) report a refused connection as an error only.
    ws.onerror = () => {
      if (!opened) closed(1006, '')
    }
  }

  /** A connection ended (or never began): tell the protocol, then retry unless told not to. */
  private ended(error: VivimError | null, terminal: boolean): void {
    if (terminal) this.wanted = false
    const retrying = this.wanted
    if (retrying) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null
        void this.open()
      }, this.backoff.next())
      page.addEventListener?.('online', this.onOnline)
    }
    this.handlers.closed(error, retrying)
  }

  private cancelRetry(): void {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer)
    this.retryTimer = null
  }

  /** Back online: the scheduled attempt goes now. */
  private readonly onOnline = () => {
    page.removeEventListener?.('online', this.onOnline)
    if (this.retryTimer === null) return
    this.cancelRetry()
    void this.open()
  }
}
