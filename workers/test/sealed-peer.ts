/**
 * A client of a sealed (end-to-end encrypted) document for tests inside
 * workerd, over a `SocketPeer`: it seals each local Yjs update before it
 * leaves and opens each entry the room sends, so the room only ever holds
 * ciphertext. The room never decrypts, so raw requests may carry any bytes.
 */
import {
  decodeSealedServerFrame,
  encodeSealedFrame,
  type SealedClientFrame,
  SealedDocCodec,
  type SealedServerFrame,
} from '@vivim/shared'
import * as Y from 'yjs'
import { binary, openSocket, SocketPeer } from './socket-peer.ts'

type Frame<T extends SealedServerFrame['t']> = Extract<SealedServerFrame, { t: T }>

const isAnswer = (frame: SealedServerFrame) => frame.t === 'ok' || frame.t === 'err'

export class SealedPeer extends SocketPeer<SealedServerFrame> {
  readonly doc = new Y.Doc()
  readonly codec: SealedDocCodec
  /** The sequence number of the last entry applied. */
  applied = 0
  /** Entries that did not open with this client's key. */
  undecryptable = 0

  private constructor(ws: WebSocket, codec: SealedDocCodec) {
    super(ws, (frame) => decodeSealedServerFrame(binary(frame)))
    this.codec = codec
    this.doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin !== this) this.send(encodeSealedFrame({ t: 'put', c: codec.seal(update) }))
    })
  }

  static async connect(
    docId: string,
    key: Uint8Array,
    options: { after?: number; token?: string } = {},
  ): Promise<SealedPeer> {
    const query = new URLSearchParams()
    if (options.after !== undefined) query.set('after', String(options.after))
    if (options.token !== undefined) query.set('token', options.token)
    return new SealedPeer(await openSocket(`/v1/sealed/${docId}?${query}`), new SealedDocCodec(docId, key))
  }

  of<T extends SealedServerFrame['t']>(t: T): Frame<T>[] {
    return this.frames.filter((f): f is Frame<T> => f.t === t)
  }

  /** Sends `frame` as it is and resolves with the room's answer to it (`ok` or `err`). */
  request(frame: SealedClientFrame): Promise<SealedServerFrame> {
    const answer = this.next(isAnswer)
    this.send(encodeSealedFrame(frame))
    return answer
  }

  /** Uploads an encrypted snapshot of everything applied so far. */
  compact(): number {
    const upto = Math.max(this.applied, ...this.of('ok').map((o) => o.s))
    this.send(encodeSealedFrame({ t: 'snap', upto, c: this.codec.seal(Y.encodeStateAsUpdate(this.doc)) }))
    return upto
  }

  protected override receive(frame: SealedServerFrame): void {
    if (frame.t !== 'entry') return
    try {
      Y.applyUpdate(this.doc, this.codec.open(frame.c), this)
      this.applied = frame.s
    } catch {
      this.undecryptable++
    }
  }
}
