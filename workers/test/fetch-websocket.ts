/**
 * A WebSocket class for the stock `y-websocket` provider inside workerd
 * tests: it opens its connection as every test socket is opened
 * (`openSocket`, through the edge's own fetch handler, as there is no
 * listening port inside the test runtime) and otherwise behaves as the
 * browser WebSocket the provider expects, so the provider's own code runs
 * unchanged.
 */
import { WebsocketProvider } from 'y-websocket'
import type * as Y from 'yjs'
import { EDGE, openSocket } from './socket-peer.ts'

type Handler<E> = ((event: E) => void) | null

export class FetchWebSocket {
  static readonly CONNECTING = 0
  static readonly OPEN = 1
  static readonly CLOSING = 2
  static readonly CLOSED = 3
  readonly CONNECTING = 0
  readonly OPEN = 1
  readonly CLOSING = 2
  readonly CLOSED = 3
  readyState = 0
  binaryType = 'arraybuffer'
  onopen: Handler<Event> = null
  onmessage: Handler<MessageEvent> = null
  onclose: Handler<CloseEvent> = null
  onerror: Handler<Event> = null
  private socket: WebSocket | null = null

  constructor(url: string) {
    const { pathname, search } = new URL(url)
    openSocket(`${pathname}${search}`)
      .then((ws) => {
        this.socket = ws
        ws.addEventListener('message', (event) => this.onmessage?.(event))
        ws.addEventListener('close', (event) => {
          this.readyState = FetchWebSocket.CLOSED
          this.onclose?.(event)
        })
        ws.addEventListener('error', (event) => this.onerror?.(event))
        this.readyState = FetchWebSocket.OPEN
        this.onopen?.(new Event('open'))
      })
      .catch(() => {
        this.readyState = FetchWebSocket.CLOSED
        this.onerror?.(new Event('error'))
        this.onclose?.(new CloseEvent('close', { code: 1006, reason: 'connect failed' }))
      })
  }

  send(data: ArrayBuffer | Uint8Array): void {
    this.socket?.send(data)
  }

  close(code?: number, reason?: string): void {
    this.readyState = FetchWebSocket.CLOSING
    this.socket?.close(code, reason)
  }
}

type ProviderOptions = NonNullable<ConstructorParameters<typeof WebsocketProvider>[3]>

/** The stock provider, unchanged, connected to a room of the edge under test. */
export function stockProvider(docId: string, doc: Y.Doc): WebsocketProvider {
  return new WebsocketProvider(`${EDGE.replace('http', 'ws')}/v1/docs`, docId, doc, {
    WebSocketPolyfill: FetchWebSocket as unknown as ProviderOptions['WebSocketPolyfill'],
    disableBc: true,
  })
}

export function synced(provider: WebsocketProvider): Promise<void> {
  return new Promise((resolve) => {
    if (provider.synced) resolve()
    else provider.once('sync', (isSynced: boolean) => isSynced && resolve())
  })
}
