import { describe, expect, inject, it } from 'vitest'
import * as Y from 'yjs'
import { VivimDocProvider } from '../src/doc-provider.ts'

const edge = inject('edgeUrl').replace('http', 'ws')

/** The real WebSocket, counting what the provider sends, and able to go deaf to the edge's pongs. */
class WatchedWebSocket extends WebSocket {
  static binarySent = 0
  static pings = 0
  static pongs = 0
  static deaf = false

  override send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
    if (typeof data === 'string') WatchedWebSocket.pings++
    else WatchedWebSocket.binarySent++
    super.send(data)
  }

  override set onmessage(handler: ((event: MessageEvent) => void) | null) {
    super.onmessage = (event: MessageEvent) => {
      if (event.data === 'pong') {
        if (WatchedWebSocket.deaf) return
        WatchedWebSocket.pongs++
      }
      handler?.(event)
    }
  }
}

const pongs = (n: number) =>
  new Promise<void>((resolve) => {
    const target = WatchedWebSocket.pongs + n
    const poll = setInterval(() => {
      if (WatchedWebSocket.pongs >= target) {
        clearInterval(poll)
        resolve()
      }
    }, 10)
  })

describe('an idle provider', () => {
  it('sends nothing but pings the runtime answers, and notices a dead connection', async () => {
    const provider = new VivimDocProvider(edge, `idle-${crypto.randomUUID()}`, new Y.Doc(), {
      WebSocket: WatchedWebSocket,
      // Short beats keep the test quick; long enough that a loaded machine answers in time.
      heartbeatMs: 400,
    })
    provider.awareness.setLocalState({ name: 'idle' })
    await new Promise<void>((resolve) => provider.state.on((s) => s === 'synced' && resolve()))
    await pongs(1)
    const before = WatchedWebSocket.binarySent
    await pongs(3)
    expect(WatchedWebSocket.binarySent).toBe(before)
    // y-protocols renews local awareness every 15 s (y-websocket sends each renewal,
    // which keeps a room awake); make the state look stale so it renews now.
    const meta = provider.awareness.meta.get(provider.doc.clientID)
    if (meta) meta.lastUpdated = 0
    await new Promise<void>((resolve) => provider.awareness.once('update', () => resolve()))
    await pongs(2)
    expect(WatchedWebSocket.binarySent).toBe(before)

    WatchedWebSocket.deaf = true
    const reconnecting = new Promise<void>((resolve) => provider.state.on((s) => s === 'connecting' && resolve()))
    await reconnecting
    WatchedWebSocket.deaf = false
    await new Promise<void>((resolve) => provider.state.on((s) => s === 'synced' && resolve()))
    provider.destroy()
  })
})
