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
import { reconnectBackoff } from '../backoff.ts'
import { closeError, connectionError, isTerminal } from '../close-errors.ts'
import { resolveToken, type TokenSource } from '../http.ts'
import { SyncStateMachine } from '../sync-state.ts'

/** How a `VivimSealedDocProvider` connects: its credential, and whether to connect at once. */
export interface SealedDocProviderInit {
  token?: TokenSource
  connect?: boolean
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
  private readonly url: string
  private readonly codec: SealedDocCodec
  private readonly init: SealedDocProviderInit
  private readonly backoff = reconnectBackoff()
  private ws: WebSocket | null = null
  private shouldConnect = false
  private unsent = false

  constructor(edgeWsUrl: string, docId: string, doc: Y.Doc, key: Uint8Array, init: SealedDocProviderInit = {}) {
    super()
    this.doc = doc
    this.init = init
    this.codec = new SealedDocCodec(docId, key)
    this.url = `${edgeWsUrl.replace(/\/$/, '')}/v1/sealed/${encodeURIComponent(docId)}`
    doc.on('update', this.onUpdate)
    if (init.connect !== false) this.connect()
  }

  /** Connects (and keeps reconnecting after drops) until `disconnect`. */
  connect(): void {
    this.shouldConnect = true
    if (this.ws === null) void this.open()
  }

  /** Closes the socket and stops reconnecting. */
  disconnect(): void {
    this.shouldConnect = false
    this.ws?.close(1000, 'disconnect')
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

  private async open(): Promise<void> {
    this.state.to('connecting')
    const token = await resolveToken(this.init.token)
    const query = new URLSearchParams({ after: String(this.applied) })
    if (token) query.set('token', token)
    const ws = new WebSocket(`${this.url}?${query}`)
    ws.binaryType = 'arraybuffer'
    this.ws = ws
    let opened = false
    ws.onopen = () => {
      opened = true
      this.backoff.reset()
      this.state.to('syncing')
    }
    ws.onmessage = (event) => this.receive(new Uint8Array(event.data as ArrayBuffer))
    const closed = (code: number, reason: string) => {
      if (this.ws !== ws) return
      this.ws = null
      this.emit('sync', [false])
      const error = opened ? closeError(code, reason) : connectionError(`cannot reach ${this.url}`)
      this.state.to('offline')
      if (error) this.emit('error', [error])
      const retry = this.shouldConnect && !(error && isTerminal(error, typeof this.init.token === 'function'))
      if (retry) setTimeout(() => this.shouldConnect && void this.open(), this.backoff.next())
    }
    ws.onclose = (event) => closed(event.code, event.reason)
    ws.onerror = () => {
      if (!opened) closed(1006, '')
    }
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
    if (this.ws?.readyState === 1) this.send(encodeSealedFrame({ t: 'put', c: this.codec.seal(update) }))
    else this.unsent = true
  }

  private send(frame: Uint8Array): void {
    this.ws?.send(frame as Uint8Array<ArrayBuffer>)
  }
}
