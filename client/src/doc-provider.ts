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
import { ConflictTracker } from './conflict-tracker.ts'
import { ReconnectingSocket } from './reconnecting-socket.ts'
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
  private readonly init: DocProviderInit
  private readonly socket: ReconnectingSocket
  private readonly conflicts: ConflictTracker
  private heartbeat: ReturnType<typeof setInterval> | null = null
  private awaitingPong = false

  constructor(edgeUrl: string, docId: string, doc: Y.Doc, init: DocProviderInit = {}) {
    super()
    this.doc = doc
    this.init = init
    this.url = `${edgeUrl.replace(/\/$/, '')}/v1/docs/${encodeURIComponent(docId)}`
    this.awareness = new awarenessProtocol.Awareness(doc)
    this.conflicts = new ConflictTracker(doc)
    this.socket = new ReconnectingSocket(
      { url: this.url, token: init.token, WebSocket: init.WebSocket },
      { connecting: this.onConnecting, opened: this.onOpened, message: this.onMessage, closed: this.onClosed },
    )
    doc.on('update', this.onDocUpdate)
    this.awareness.on('change', this.onAwarenessChange)
    if (init.connect !== false) this.connect()
  }

  /** Whether a reconnect is scheduled. */
  get retrying(): boolean {
    return this.socket.retrying
  }

  /** Connects (and keeps reconnecting after drops) until `disconnect`. */
  connect(): void {
    this.socket.connect()
  }

  /** Closes the socket and stops reconnecting; the document stays as it is. */
  disconnect(): void {
    this.socket.disconnect()
  }

  /** Disconnects and stops following the document's updates. */
  override destroy(): void {
    this.disconnect()
    this.doc.off('update', this.onDocUpdate)
    this.awareness.off('change', this.onAwarenessChange)
    this.awareness.destroy()
    super.destroy()
  }

  private readonly onConnecting = () => {
    this.state.to('connecting')
    this.emit('status', [{ status: 'connecting' }])
  }

  private readonly onOpened = () => {
    this.emit('status', [{ status: 'connected' }])
    this.state.to('syncing')
    this.startHeartbeat()
    this.send(encodeSyncStep1(Y.encodeStateVector(this.doc)))
    if (this.awareness.getLocalState() !== null) this.sendAwareness([this.doc.clientID])
  }

  private readonly onMessage = (data: ArrayBuffer | string) => {
    this.awaitingPong = false
    if (typeof data !== 'string') this.receive(new Uint8Array(data))
  }

  private readonly onClosed = (error: VivimError | null) => {
    this.stopHeartbeat()
    this.dropRemoteAwareness()
    if (this.synced) {
      this.synced = false
      this.emit('sync', [false])
    }
    this.emit('status', [{ status: 'disconnected' }])
    this.state.to('offline')
    if (error === null) return
    this.lastError = error
    this.emit('error', [error])
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
    this.socket.send(frame)
  }

  /** Every beat: remote presence stays fresh locally, and a ping must have been answered. */
  private startHeartbeat(): void {
    const every = this.init.heartbeatMs ?? 25_000
    this.heartbeat = setInterval(() => {
      const now = Date.now()
      for (const [id, meta] of this.awareness.meta) if (id !== this.doc.clientID) meta.lastUpdated = now
      if (this.awaitingPong) {
        this.socket.drop(4000, 'no answer to ping')
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
}
