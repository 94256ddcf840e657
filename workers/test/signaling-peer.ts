/**
 * A WebRTC signaling peer for tests inside workerd that sends exactly what
 * the stock y-webrtc package sends (`JSON.stringify` of its subscribe,
 * publish and ping objects, as its `SignalingConn` does through lib0's
 * WebsocketClient) over a `SocketPeer`, which keeps the parsed messages.
 */
import { type Frame, openSocket, SocketPeer } from './socket-peer.ts'

export class SignalingPeer extends SocketPeer<Record<string, unknown>> {
  private constructor(ws: WebSocket) {
    super(ws, (frame) => JSON.parse(frame as string))
  }

  /** Connects with `token` as the `token` query parameter (none: development mode's anything goes). */
  static async connect(token?: string): Promise<SignalingPeer> {
    const query = token === undefined ? '' : `?token=${encodeURIComponent(token)}`
    return new SignalingPeer(await openSocket(`/v1/signaling${query}`))
  }

  /** Sends a message as y-webrtc does, as its JSON text; a frame is sent as it is. */
  override send(message: object | Frame): void {
    super.send(typeof message === 'string' || message instanceof Uint8Array ? message : JSON.stringify(message))
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
    return this.frames.filter((m) => (m.data as { from?: string } | undefined)?.from === peerId)
  }
}
