/**
 * `VivimDocProvider`: keeps a Y.Doc in sync with its room at the edge, in
 * the shape Yjs users know from `y-websocket` (`status` and `sync` events, an
 * `awareness`, `connect()` / `disconnect()` / `destroy()`), plus the sync
 * state machine of `sync-state.ts` and typed errors.
 *
 * Idle costs nothing: awareness is sent only when it changes (y-protocols
 * renews it every 15 s, which would keep the room awake), remote states are
 * kept fresh locally for as long as the socket lives (the room removes them
 * when their owner leaves), and liveness is checked with `ping` text frames
 * that the runtime answers without waking the room.
 *
 * @example
 * ```ts
 * const doc = new Y.Doc()
 * const provider = new VivimDocProvider('ws://127.0.0.1:8787', 'conversation:c1', doc, { token })
 * provider.state.on((s) => console.log(s)) // connecting, syncing, synced
 * ```
 */
import {
  type Did,
  decodeDocMessage,
  encodeAwarenessFrame,
  encodeSyncStep1,
  encodeSyncStep2,
  encodeSyncUpdate,
  MessageType,
  SyncType,
  type VivimError,
} from '@vivim/shared'
import { ObservableV2 } from 'lib0/observable'
import * as awarenessProtocol from 'y-protocols/awareness'
import * as Y from 'yjs'
import { reconnectBackoff } from './backoff.ts'
import { closeError, connectionError, isTerminal } from './close-errors.ts'
import { ConflictTracker } from './conflict-tracker.ts'
import { SyncStateMachine } from './sync-state.ts'

/** How a `VivimDocProvider` connects: its credential, whether to connect at once, its heartbeat, and the DID it reports in awareness. */
export interface DocProviderInit {
  /** A credential, or a function that mints one for each connection (short-lived invocations). */
  token?: string | (() => string | Promise<string>)
  /** Connect at once (default true). */
  connect?: boolean
  /** Liveness check interval, ms (default 25 s). */
  heartbeatMs?: number
  /** The WebSocket class to use (default: the global one, in browsers and Node 22). */
  WebSocket?: typeof WebSocket
  /** Reported as the author DID in awareness, when given. */
  did?: Did
}

type Events = {
  status: (event: { status: 'connecting' | 'connected' | 'disconnected' }) => void
  sync: (synced: boolean) => void
  error: (error: VivimError) => void
}

/**
 * A Y.Doc kept in sync with its room at the edge, in `y-websocket`'s shape, with a sync state machine and typed errors.
 *
 * @example
 * ```ts
 * const provider = new VivimDocProvider('ws://127.0.0.1:8787', 'conversation:c1', new Y.Doc(), { token })
 * provider.state.on((s) => console.log(s)) // connecting, syncing, synced
 * ```
 */
export class VivimDocProvider extends ObservableV2<Events> {
  readonly doc: Y.Doc
  readonly awareness: awarenessProtocol.Awareness
  readonly state = new SyncStateMachine()
  readonly url: string
  synced = false
  lastError: VivimError | null = null
  private ws: WebSocket | null = null
  private shouldConnect = false
  private readonly init: DocProviderInit
  private readonly backoff = reconnectBackoff()
  private readonly conflicts: ConflictTracker
  private retryTimer: ReturnType<typeof setTimeout> | null = null
  private heartbeat: ReturnType<typeof setInterval> | null = null
  private awaitingPong = false

  constructor(edgeUrl: string, docId: string, doc: Y.Doc, init: DocProviderInit = {}) {
    super()
    this.doc = doc
    this.init = init
    this.url = `${edgeUrl.replace(/\/$/, '')}/v1/docs/${encodeURIComponent(docId)}`
    this.awareness = new awarenessProtocol.Awareness(doc)
    this.conflicts = new ConflictTracker(doc)
    doc.on('update', this.onDocUpdate)
    this.awareness.on('change', this.onAwarenessChange)
    if (init.connect !== false) this.connect()
  }

  /** Whether a reconnect is scheduled. */
  get retrying(): boolean {
    return this.retryTimer !== null
  }

  /** Connects (and keeps reconnecting after drops) until `disconnect`. */
  connect(): void {
    this.shouldConnect = true
    if (this.ws === null && this.retryTimer === null) void this.open()
  }

  /** Closes the socket and stops reconnecting; the document stays as it is. */
  disconnect(): void {
    this.shouldConnect = false
    if (this.retryTimer !== null) clearTimeout(this.retryTimer)
    this.retryTimer = null
    this.ws?.close(1000, 'disconnect')
  }

  /** Disconnects and stops following the document's updates. */
  override destroy(): void {
    this.disconnect()
    this.doc.off('update', this.onDocUpdate)
    this.awareness.off('change', this.onAwarenessChange)
    this.awareness.destroy()
    super.destroy()
  }

  private async open(): Promise<void> {
    this.state.to('connecting')
    this.emit('status', [{ status: 'connecting' }])
    let url = this.url
    try {
      const token = typeof this.init.token === 'function' ? await this.init.token() : this.init.token
      if (token) url += `?token=${encodeURIComponent(token)}`
    } catch (cause) {
      return this.fail(connectionError(`could not get a token: ${(cause as Error).message}`), true)
    }
    const Impl = this.init.WebSocket ?? globalThis.WebSocket
    let ws: WebSocket
    try {
      ws = new Impl(url)
    } catch (cause) {
      return this.fail(connectionError(`bad edge URL ${this.url}: ${(cause as Error).message}`), true)
    }
    ws.binaryType = 'arraybuffer'
    this.ws = ws
    let opened = false
    ws.onopen = () => {
      opened = true
      this.backoff.reset()
      this.emit('status', [{ status: 'connected' }])
      this.state.to('syncing')
      this.startHeartbeat()
      this.send(encodeSyncStep1(Y.encodeStateVector(this.doc)))
      if (this.awareness.getLocalState() !== null) this.sendAwareness([this.doc.clientID])
    }
    ws.onmessage = (event) => {
      this.awaitingPong = false
      if (typeof event.data === 'string') return
      this.receive(new Uint8Array(event.data as ArrayBuffer))
    }
    const closed = (code: number, reason: string) => {
      if (this.ws !== ws) return
      this.ws = null
      this.stopHeartbeat()
      this.dropRemoteAwareness()
      if (this.synced) {
        this.synced = false
        this.emit('sync', [false])
      }
      this.emit('status', [{ status: 'disconnected' }])
      const error = opened ? closeError(code, reason) : connectionError(`cannot reach ${this.url}`)
      if (error === null) this.state.to('offline')
      else this.fail(error, isTerminal(error, typeof this.init.token === 'function'))
    }
    ws.onclose = (event) => closed(event.code, event.reason)
    // Some WebSocket implementations (Node's among them) report a refused connection as an error only.
    ws.onerror = () => {
      if (!opened) closed(1006, '')
    }
  }

  private receive(frame: Uint8Array): void {
    let msg: ReturnType<typeof decodeDocMessage>
    try {
      msg = decodeDocMessage(frame)
    } catch {
      return
    }
    if (msg.type === MessageType.Sync) {
      if (msg.syncType === SyncType.Step1) {
        if (this.conflicts.concurrentWith(msg.data)) this.state.to('conflict')
        this.send(encodeSyncStep2(Y.encodeStateAsUpdate(this.doc, msg.data)))
        return
      }
      Y.applyUpdate(this.doc, msg.data, this)
      this.conflicts.acknowledge(msg.data)
      if (msg.syncType === SyncType.Step2 && !this.synced) {
        this.synced = true
        if (this.state.value === 'conflict') this.state.to('resolved')
        this.emit('sync', [true])
      }
      if (this.synced && !this.conflicts.pending()) this.state.to('synced')
    } else if (msg.type === MessageType.Awareness) {
      awarenessProtocol.applyAwarenessUpdate(this.awareness, msg.update, this)
    }
  }

  private readonly onDocUpdate = (update: Uint8Array, origin: unknown) => {
    if (origin === this) return
    this.conflicts.local()
    if (this.state.value === 'synced') this.state.to('syncing')
    this.send(encodeSyncUpdate(update))
  }

  private readonly onAwarenessChange = (
    { added, updated, removed }: { added: number[]; updated: number[]; removed: number[] },
    origin: unknown,
  ) => {
    if (origin === 'local') this.sendAwareness([...added, ...updated, ...removed])
  }

  private sendAwareness(clients: number[]): void {
    this.send(encodeAwarenessFrame(awarenessProtocol.encodeAwarenessUpdate(this.awareness, clients)))
  }

  private send(frame: Uint8Array | string): void {
    if (this.ws?.readyState === 1) this.ws.send(frame as Uint8Array<ArrayBuffer> | string)
  }

  /** Every beat: remote presence stays fresh locally, and a ping must have been answered. */
  private startHeartbeat(): void {
    const every = this.init.heartbeatMs ?? 25_000
    this.heartbeat = setInterval(() => {
      const now = Date.now()
      for (const [id, meta] of this.awareness.meta) if (id !== this.doc.clientID) meta.lastUpdated = now
      if (this.awaitingPong) {
        this.ws?.close(4000, 'no answer to ping')
        return
      }
      this.awaitingPong = true
      this.send('ping')
    }, every)
  }

  private stopHeartbeat(): void {
    if (this.heartbeat !== null) clearInterval(this.heartbeat)
    this.heartbeat = null
    this.awaitingPong = false
  }

  private dropRemoteAwareness(): void {
    const remote = [...this.awareness.getStates().keys()].filter((id) => id !== this.doc.clientID)
    awarenessProtocol.removeAwarenessStates(this.awareness, remote, this)
  }

  private fail(error: VivimError, terminal: boolean): void {
    this.lastError = error
    this.state.to('offline')
    this.emit('error', [error])
    if (terminal) this.shouldConnect = false
    if (!this.shouldConnect) return
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null
      if (this.shouldConnect) void this.open()
    }, this.backoff.next())
  }
}
