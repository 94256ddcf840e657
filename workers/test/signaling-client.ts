/**
 * A WebRTC signaling client for tests inside workerd, speaking to the edge's
 * real fetch handler.
 */
import { openSocket } from './doc-peer.ts'
import { Waiters } from './waiters.ts'

/**
 * A signaling client that sends exactly what the stock y-webrtc package
 * sends (`JSON.stringify` of its subscribe, publish and ping objects, as its
 * `SignalingConn` does through lib0's WebsocketClient) and records what it
 * receives.
 */
export class SignalingClient {
  readonly received: Record<string, unknown>[] = []
  closed: number | null = null
  private readonly waiters = new Waiters()
  readonly ws: WebSocket
  private constructor(ws: WebSocket) {
    this.ws = ws
    ws.addEventListener('message', (event) => {
      this.received.push(JSON.parse(event.data as string))
      this.waiters.notify()
    })
    ws.addEventListener('close', (event) => {
      this.closed = event.code
      this.waiters.notify()
    })
  }

  /** Connects with `token` as the `token` query parameter (none: development mode's anything goes). */
  static async connect(token?: string): Promise<SignalingClient> {
    const query = token === undefined ? '' : `?token=${encodeURIComponent(token)}`
    return new SignalingClient(await openSocket(`/v1/signaling${query}`))
  }

  /** Resolves with the close code once the hub closes the socket. */
  async whenClosed(): Promise<number> {
    await this.until(() => this.closed !== null)
    return this.closed as number
  }

  send(message: object): void {
    this.ws.send(JSON.stringify(message))
  }

  announce(room: string, peerId: string): void {
    this.send({ type: 'publish', topic: room, data: { type: 'announce', from: peerId } })
  }

  /**
   * Announces `peerId` in `room` and waits for the hub's echo: since the hub
   * handles a socket's frames in order, everything sent before is handled.
   */
  async joinedAs(room: string, peerId: string): Promise<void> {
    this.announce(room, peerId)
    await this.until(() => this.announcementsFrom(peerId).length > 0 || this.closed !== null)
  }

  announcementsFrom(peerId: string): unknown[] {
    return this.received.filter((m) => (m.data as { from?: string } | undefined)?.from === peerId)
  }

  until(predicate: () => boolean): Promise<void> {
    return this.waiters.until(predicate)
  }
}
