/**
 * `VivimSealedDocProvider`: an end-to-end encrypted document. Every update
 * is encrypted with the document key before it leaves the client, so the
 * edge stores and relays ciphertext only (`/v1/sealed/<docId>`, protocol in
 * `shared/src/sealed-doc.ts`). The edge cannot compute what a client lacks,
 * so a client resumes from the last entry it applied, and after writing
 * offline it sends its whole state once (Yjs ignores what others already
 * have). `compact()` replaces the history it has applied with one encrypted
 * snapshot.
 *
 * @example
 * ```ts
 * const notes = new VivimSealedDocProvider('ws://127.0.0.1:8787', 'notes-1', new Y.Doc(), docKey)
 * notes.doc.getText('body').insert(0, 'only we can read this')
 * ```
 */
import { decodeSealedServerFrame, encodeSealedFrame, SealedDocCodec, type VivimError } from '@vivim/shared'
import { ObservableV2 } from 'lib0/observable'
import * as Y from 'yjs'
import { closeError } from '../close-errors.ts'
import type { TokenSource } from '../http.ts'
import { ReconnectingSocket } from '../reconnecting-socket.ts'
import { SyncStateMachine } from '../sync-state.ts'

/** How a `VivimSealedDocProvider` connects: its credential, whether to connect at once, and the `WebSocket` to use. */
export interface SealedDocProviderInit {
  token?: TokenSource
  connect?: boolean
  /** The `WebSocket` implementation; the platform's by default. */
  WebSocket?: typeof WebSocket
}

/**
 * An end-to-end encrypted document: updates are encrypted with the document key before they leave, and the edge relays ciphertext only.
 *
 * @example
 * ```ts
 * const notes = new VivimSealedDocProvider('ws://127.0.0.1:8787', 'notes-1', new Y.Doc(), docKey)
 * notes.doc.getText('body').insert(0, 'only we can read this')
 * ```
 */
export class VivimSealedDocProvider extends ObservableV2<{
  /** Whether the document has caught up with the room (after `live`). */
  sync: (synced: boolean) => void
  /** A refusal or a connection error, as a typed error. */
  error: (e: VivimError) => void
}> {
  readonly doc: Y.Doc
  readonly state = new SyncStateMachine()
  /** The last entry applied; the resume point. */
  applied = 0
  private readonly codec: SealedDocCodec
  private readonly socket: ReconnectingSocket
  private unsent = false

  constructor(edgeWsUrl: string, docId: string, doc: Y.Doc, key: Uint8Array, init: SealedDocProviderInit = {}) {
    super()
    this.doc = doc
    this.codec = new SealedDocCodec(docId, key)
    const url = `${edgeWsUrl.replace(/\/$/, '')}/v1/sealed/${encodeURIComponent(docId)}`
    this.socket = new ReconnectingSocket(
      { url, token: init.token, WebSocket: init.WebSocket, query: () => ({ after: String(this.applied) }) },
      {
        connecting: () => this.state.to('connecting'),
        opened: () => this.state.to('syncing'),
        message: (data) => {
          if (typeof data !== 'string') this.receive(new Uint8Array(data))
        },
        closed: (error) => {
          this.emit('sync', [false])
          this.state.to('offline')
          if (error) this.emit('error', [error])
        },
      },
    )
    doc.on('update', this.onUpdate)
    if (init.connect !== false) this.connect()
  }

  /** Connects (and keeps reconnecting after drops) until `disconnect`. */
  connect(): void {
    this.socket.connect()
  }

  /** Closes the socket and stops reconnecting. */
  disconnect(): void {
    this.socket.disconnect()
  }

  /** Disconnects and stops following the document's updates. */
  override destroy(): void {
    this.disconnect()
    this.doc.off('update', this.onUpdate)
    super.destroy()
  }

  /** Uploads an encrypted snapshot that replaces every entry applied so far. */
  compact(): void {
    if (this.applied === 0) return
    this.send(encodeSealedFrame({ t: 'snap', upto: this.applied, c: this.codec.seal(Y.encodeStateAsUpdate(this.doc)) }))
  }

  private receive(bytes: Uint8Array): void {
    const frame = decodeSealedServerFrame(bytes)
    if (frame.t === 'entry') {
      try {
        Y.applyUpdate(this.doc, this.codec.open(frame.c), this)
        this.applied = frame.s
      } catch (error) {
        this.emit('error', [error as VivimError])
      }
    } else if (frame.t === 'live') {
      if (this.unsent) {
        this.unsent = false
        this.send(encodeSealedFrame({ t: 'put', c: this.codec.seal(Y.encodeStateAsUpdate(this.doc)) }))
      }
      this.state.to('synced')
      this.emit('sync', [true])
    } else if (frame.t === 'ok') {
      this.applied = Math.max(this.applied, frame.s)
    } else if (frame.t === 'err') {
      this.emit('error', [closeError(4400, `${frame.code}: ${frame.message}`) as VivimError])
    }
  }

  private readonly onUpdate = (update: Uint8Array, origin: unknown) => {
    if (origin === this) return
    if (!this.send(encodeSealedFrame({ t: 'put', c: this.codec.seal(update) }))) this.unsent = true
  }

  /** Sends a frame if the socket is open; says whether it was sent. */
  private send(frame: Uint8Array): boolean {
    return this.socket.send(frame)
  }
}
