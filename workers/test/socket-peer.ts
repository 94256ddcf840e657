/**
 * The raw socket every edge test peer is built on. Inside workerd there is no
 * listening port, so a socket is opened through the Worker's real fetch
 * handler; `SocketPeer` then records each frame it receives (decoded by its
 * protocol layer) and how it closed, and waits for what a test means (a
 * predicate, the close, the next matching frame), never for a length of time.
 * The document, topic, sealed-document, signaling and bridge peers are thin
 * layers over it: a decoder, and `receive` for what their protocol answers.
 */
import { exports } from 'cloudflare:workers'
import { Waiters } from './waiters.ts'

/** The origin tests address the edge by: the fetch handler is called directly, nothing resolves it. */
export const EDGE = 'http://edge.test'

/** A frame as a socket carries it: bytes, or text for the JSON protocols. */
export type Frame = Uint8Array | string

/** How a socket closed. */
export interface Closed {
  code: number
  reason: string
}

/** An upgrade request for `path`, as a browser's `new WebSocket` sends it, answered by the edge. */
export function upgrade(path: string, headers: Record<string, string> = {}): Promise<Response> {
  return exports.default.fetch(new Request(`${EDGE}${path}`, { headers: { Upgrade: 'websocket', ...headers } }))
}

/** Accepts the socket of an upgrade answer, its binary frames delivered as bytes. */
function accepted(ws: WebSocket): WebSocket {
  ws.accept()
  ws.binaryType = 'arraybuffer'
  return ws
}

/** An accepted socket on `path`; throws with the edge's answer when it did not upgrade. */
export async function openSocket(path: string, headers?: Record<string, string>): Promise<WebSocket> {
  const res = await upgrade(path, headers)
  if (res.status !== 101 || !res.webSocket) throw new Error(`no upgrade: ${res.status} ${await res.text()}`)
  return accepted(res.webSocket)
}

/** A binary protocol's frame. Text on such a socket is the room's fault, so it throws rather than pass unseen. */
export function binary(frame: Frame): Uint8Array {
  if (typeof frame === 'string') throw new TypeError(`a text frame on a binary protocol: ${frame.slice(0, 80)}`)
  return frame
}

/**
 * A socket to the edge, recording what it receives. `F` is a frame as the
 * protocol layer decodes it; a raw peer keeps frames as they came.
 */
export class SocketPeer<F = Frame> {
  /** Every frame received, in order. */
  readonly frames: F[] = []
  /** How the socket closed, or null while it is open. */
  closed: Closed | null = null
  private readonly waiters = new Waiters()
  private readonly ws: WebSocket

  /** Takes over `ws`, an accepted socket, decoding each frame with `decode`. */
  protected constructor(ws: WebSocket, decode: (frame: Frame) => F) {
    this.ws = ws
    ws.addEventListener('message', (event) => {
      const frame = decode(typeof event.data === 'string' ? event.data : new Uint8Array(event.data as ArrayBuffer))
      this.frames.push(frame)
      this.receive(frame)
      this.waiters.notify()
    })
    ws.addEventListener('close', (event) => {
      this.closed = { code: event.code, reason: event.reason }
      this.waiters.notify()
    })
  }

  /** A raw peer on `path`, for frames no protocol client would send. */
  static async open(path: string, headers?: Record<string, string>): Promise<SocketPeer> {
    return new SocketPeer(await openSocket(path, headers), (frame) => frame)
  }

  /** A raw peer on the socket of an upgrade answer the test made itself. */
  static accept(ws: WebSocket): SocketPeer {
    return new SocketPeer(accepted(ws), (frame) => frame)
  }

  /** Resolves once `predicate` holds, checked again at each frame received and at the close. */
  until(predicate: () => boolean): Promise<void> {
    return this.waiters.until(predicate)
  }

  /** Resolves with how the socket closed, once it has. */
  async closedWith(): Promise<Closed> {
    await this.until(() => this.closed !== null)
    return this.closed as Closed
  }

  /** Resolves with the first frame from now on that `matching` accepts; rejects if the socket closes first. */
  async next(matching: (frame: F) => boolean = () => true): Promise<F> {
    let at = this.frames.length
    await this.until(() => {
      while (at < this.frames.length && !matching(this.frames[at] as F)) at++
      return at < this.frames.length || this.closed !== null
    })
    if (at === this.frames.length) throw new Error(`closed ${this.closed?.code} before the awaited frame`)
    return this.frames[at] as F
  }

  /** Sends `frame` as it is. */
  send(frame: Frame): void {
    this.ws.send(frame)
  }

  close(code = 1000, reason = 'done'): void {
    this.ws.close(code, reason)
  }

  /** What the protocol does with a frame as it arrives (answer it, apply it), before any waiter checks. */
  protected receive(_frame: F): void {}
}

/** An HTTP error's status and the code its body carries. */
type Refused = { status: number; code: string }

async function errorOf(res: Response): Promise<Refused> {
  return { status: res.status, code: ((await res.json()) as { error: { code: string } }).error.code }
}

/**
 * How the edge refused an upgrade: it accepts and closes at once with
 * `4000 + status` and a reason starting with the error code. Returns the
 * status and code as an HTTP error would carry them.
 */
export async function refusal(path: string, headers?: Record<string, string>): Promise<Refused> {
  const res = await upgrade(path, headers)
  if (res.status !== 101 || !res.webSocket) return errorOf(res)
  const { code, reason } = await SocketPeer.accept(res.webSocket).closedWith()
  return { status: code - 4000, code: reason.slice(0, reason.indexOf(':')) }
}

/** How the edge answers a plain request, with no upgrade, for a socket's `path`. */
export async function withoutUpgrade(path: string): Promise<Refused> {
  return errorOf(await exports.default.fetch(new Request(`${EDGE}${path}`)))
}
