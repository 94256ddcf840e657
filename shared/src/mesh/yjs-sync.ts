/**
 * `/vivim/yjs-sync/1.0.0`: two peers (two bridges, a bridge and a Node
 * peer, or two browsers of the SDK's mesh peer) keep a Yjs document in sync
 * directly over a libp2p stream, without the edge. Platform-neutral: the
 * bridge and the browser peer run this one module. Each message is length-prefixed (unsigned varint, as
 * everywhere in libp2p):
 *
 *   frame 1 (dialer → listener)  varString(document name)
 *   then, both ways              y-protocols messages, as on the edge's document socket:
 *                                varUint(0 = sync) then y-protocols/sync (step 1, step 2, update)
 *
 * Both sides open with sync step 1, answer the other's with step 2, and from
 * then on send each local update. A side that cannot apply a frame, or gets
 * one larger than `Limits.maxFrameBytes`, aborts the stream; the document is
 * untouched by what it could not apply.
 *
 * @example
 * ```ts
 * const sync = new YjsSync({ node }, { docs: (name) => (name === 'notes' ? notes : null) })
 * await sync.start()
 * const session = await sync.sync(otherPeerMultiaddr, 'notes', notes)
 * await session.synced
 * ```
 */
import type { Connection, Libp2p, PeerId, Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { utf8ToBytes } from '@noble/hashes/utils.js'
import * as lp from 'it-length-prefixed'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import type { Uint8ArrayList } from 'uint8arraylist'
import * as syncProtocol from 'y-protocols/sync'
import type * as Y from 'yjs'
import { BridgeLimits, YJS_SYNC_PROTOCOL } from '../bridge-protocol.ts'
import { MessageType } from '../doc-protocol.ts'
import { ErrorCode, VivimError } from '../errors.ts'
import { Limits } from '../limits.ts'

/** Where refusals are told: the bridge's logger fits, and so does `console`. */
export interface YjsSyncLog {
  info(msg: string, fields?: Record<string, unknown>): void
}

/** The libp2p node the protocol runs on. */
export interface YjsSyncComponents {
  node: Pick<Libp2p, 'handle' | 'unhandle' | 'dialProtocol'>
  log?: YjsSyncLog
}

/** Which documents this peer serves. */
export interface YjsSyncInit {
  /** The document a dialing peer names, or `null` to refuse it. */
  docs: (name: string) => Y.Doc | null
  /** Concurrent sync streams per connection. */
  maxInboundStreams?: number
  /**
   * Serve and dial over limited connections too (a circuit relay's, which carry a time and data
   * limit): a browser whose WebRTC upgrade failed keeps syncing through the relay.
   */
  runOnLimitedConnection?: boolean
}

const silent: YjsSyncLog = { info: () => {} }

const CLOSE_TIMEOUT_MS = 5_000
/** How long a listener waits for a new stream's document name before it drops the stream. */
const NAME_TIMEOUT_MS = 10_000

function frameSource(stream: Stream): AsyncGenerator<Uint8ArrayList> {
  return lp.decode(stream, { maxDataLength: Limits.maxFrameBytes })
}

export function writeDocName(encoder: encoding.Encoder, name: string): void {
  encoding.writeVarString(encoder, name)
}

export function readDocName(decoder: decoding.Decoder): string {
  const name = decoding.readVarString(decoder)
  if (name.length === 0 || utf8ToBytes(name).length > BridgeLimits.maxDocNameBytes) {
    throw new VivimError(ErrorCode.BadRequest, `a document name is 1-${BridgeLimits.maxDocNameBytes} bytes`)
  }
  return name
}

/** One live sync of one document over one stream. */
export class YjsSyncSession {
  /** Settles once the peer's state has been applied here (its sync step 2); rejects if the stream ends first (a refused name, say). */
  readonly synced: Promise<void>
  /** Settles when the stream is over, for whatever reason. */
  readonly closed: Promise<void>
  private readonly stream: Stream
  private readonly doc: Y.Doc
  private readonly onUpdate = (update: Uint8Array, origin: unknown) => {
    // What came from this peer goes back to it no more; other sessions of the doc forward it on.
    if (origin !== this) this.send((e) => syncProtocol.writeUpdate(e, update))
  }

  /**
   * `frames` is the stream's decoded frames when the caller already read from it (the listener
   * reads the name first); `firstFrames` are sent before sync step 1 (the dialer sends the name).
   */
  constructor(stream: Stream, doc: Y.Doc, firstFrames: readonly Uint8Array[] = [], frames = frameSource(stream)) {
    this.stream = stream
    this.doc = doc
    let markSynced: () => void = () => {}
    let notSynced: (error: Error) => void = () => {}
    this.synced = new Promise((done, fail) => {
      markSynced = done
      notSynced = fail
    })
    // A caller that never waits for `synced` must not turn an early close into an unhandled rejection.
    this.synced.catch(() => {})
    doc.on('update', this.onUpdate)
    for (const frame of firstFrames) stream.send(lp.encode.single(frame))
    this.send((e) => syncProtocol.writeSyncStep1(e, doc))
    this.closed = this.run(frames, markSynced).finally(() => doc.off('update', this.onUpdate))
    void this.closed.then(() =>
      notSynced(new VivimError(ErrorCode.ConnectionFailed, "the stream closed before the peer's state arrived")),
    )
  }

  /** Ends the session and closes its stream. */
  async close(): Promise<void> {
    // A graceful close waits for the peer to close its side too; a peer that does not is cut off.
    await this.stream
      .close({ signal: AbortSignal.timeout(CLOSE_TIMEOUT_MS) })
      .catch(() => this.stream.abort(new Error('closing')))
    await this.closed
  }

  private send(write: (encoder: encoding.Encoder) => void): void {
    const encoder = encoding.createEncoder()
    encoding.writeVarUint(encoder, MessageType.Sync)
    write(encoder)
    if (this.stream.writeStatus === 'writable') this.stream.send(lp.encode.single(encoding.toUint8Array(encoder)))
  }

  private async run(frames: AsyncGenerator<Uint8ArrayList>, markSynced: () => void): Promise<void> {
    try {
      for await (const frame of frames) {
        const decoder = decoding.createDecoder(frame.subarray())
        if (decoding.readVarUint(decoder) !== MessageType.Sync) continue
        const reply = encoding.createEncoder()
        encoding.writeVarUint(reply, MessageType.Sync)
        const kind = syncProtocol.readSyncMessage(decoder, reply, this.doc, this, (error) => {
          throw error
        })
        if (encoding.length(reply) > 1 && this.stream.writeStatus === 'writable') {
          this.stream.send(lp.encode.single(encoding.toUint8Array(reply)))
        }
        if (kind === syncProtocol.messageYjsSyncStep2) markSynced()
      }
      // The peer closed its side: close ours, so its graceful close completes.
      await this.stream.close({ signal: AbortSignal.timeout(CLOSE_TIMEOUT_MS) })
    } catch (error) {
      this.stream.abort(error as Error)
    }
  }
}

/** `/vivim/yjs-sync/1.0.0`: y-protocols sync of a named document over a libp2p stream, as listener and dialer. */
export class YjsSync {
  private readonly c: YjsSyncComponents
  private readonly init: YjsSyncInit
  private readonly log: YjsSyncLog
  private readonly sessions = new Set<YjsSyncSession>()

  constructor(components: YjsSyncComponents, init: YjsSyncInit) {
    this.c = components
    this.init = init
    this.log = components.log ?? silent
  }

  /** Starts answering peers that dial the protocol. */
  async start(): Promise<void> {
    await this.c.node.handle(YJS_SYNC_PROTOCOL, (stream, connection) => this.serve(stream, connection), {
      maxInboundStreams: this.init.maxInboundStreams ?? 32,
      runOnLimitedConnection: this.init.runOnLimitedConnection ?? false,
    })
  }

  /** Stops answering and ends every open session. */
  async stop(): Promise<void> {
    await this.c.node.unhandle(YJS_SYNC_PROTOCOL)
    await Promise.all([...this.sessions].map((s) => s.close()))
  }

  /**
   * Opens a sync of `doc`, named `name`, with `peer`; given a connection, over that one (a peer
   * reached both through a relay and over WebRTC is synced over the path its caller chose).
   */
  async sync(peer: PeerId | Multiaddr | Connection, name: string, doc: Y.Doc): Promise<YjsSyncSession> {
    const options = { runOnLimitedConnection: this.init.runOnLimitedConnection ?? false }
    const stream =
      'newStream' in peer
        ? await peer.newStream(YJS_SYNC_PROTOCOL, options)
        : await this.c.node.dialProtocol(peer, YJS_SYNC_PROTOCOL, options)
    const encoder = encoding.createEncoder()
    writeDocName(encoder, name)
    return this.track(new YjsSyncSession(stream, doc, [encoding.toUint8Array(encoder)]))
  }

  private async serve(stream: Stream, connection: Connection): Promise<void> {
    try {
      const frames = frameSource(stream)
      let timer: ReturnType<typeof setTimeout> | undefined
      const first = await Promise.race([
        frames.next(),
        new Promise<never>((_, fail) => {
          timer = setTimeout(
            () => fail(new VivimError(ErrorCode.BadRequest, 'no document name in time')),
            NAME_TIMEOUT_MS,
          )
        }),
      ]).finally(() => clearTimeout(timer))
      if (first.done) return
      const name = readDocName(decoding.createDecoder(first.value.subarray()))
      const doc = this.init.docs(name)
      if (doc === null) throw new VivimError(ErrorCode.NotFound, `no document ${name} here`)
      this.track(new YjsSyncSession(stream, doc, [], frames))
    } catch (error) {
      this.log.info('yjs sync refused', { peer: connection.remotePeer.toString(), error: (error as Error).message })
      stream.abort(error as Error)
    }
  }

  private track(session: YjsSyncSession): YjsSyncSession {
    this.sessions.add(session)
    void session.closed.then(() => this.sessions.delete(session))
    return session
  }
}
