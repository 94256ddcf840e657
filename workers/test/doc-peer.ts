/**
 * A y-protocols peer for tests inside workerd: a Y.Doc joined to a document
 * room, speaking the same framing as the stock y-websocket client over a
 * `SocketPeer`, which also keeps the raw frames and the close for the test.
 */
import {
  decodeDocMessage,
  encodeAwarenessFrame,
  encodeSyncStep1,
  encodeSyncStep2,
  encodeSyncUpdate,
  MessageType,
  SyncType,
} from '@vivim/shared'
import * as decoding from 'lib0/decoding'
import * as Y from 'yjs'
import { decodeAwarenessUpdate, encodeAwarenessUpdate } from '../relay/awareness-table.ts'
import { binary, openSocket, SocketPeer } from './socket-peer.ts'

export class DocPeer extends SocketPeer<Uint8Array> {
  readonly doc: Y.Doc
  readonly awareness = new Map<number, unknown>()
  readonly denied: string[] = []
  synced = false
  /** Sync step 2 and update frames received: the room's echo of a write counts. */
  updatesReceived = 0

  private constructor(ws: WebSocket, doc: Y.Doc) {
    super(ws, binary)
    this.doc = doc
    doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin !== this && this.closed === null) this.send(encodeSyncUpdate(update))
    })
    this.send(encodeSyncStep1(Y.encodeStateVector(doc)))
  }

  static async connect(docId: string, options: { token?: string; doc?: Y.Doc } = {}): Promise<DocPeer> {
    const query = options.token === undefined ? '' : `?token=${encodeURIComponent(options.token)}`
    return new DocPeer(await openSocket(`/v1/docs/${docId}${query}`), options.doc ?? new Y.Doc())
  }

  setPresence(state: unknown, clock = 1, clientId = this.doc.clientID): void {
    this.send(encodeAwarenessFrame(encodeAwarenessUpdate([{ clientId, clock, state: JSON.stringify(state) }])))
  }

  protected override receive(frame: Uint8Array): void {
    const msg = decodeDocMessage(frame)
    if (msg.type === MessageType.Sync) {
      if (msg.syncType === SyncType.Step1) {
        this.send(encodeSyncStep2(Y.encodeStateAsUpdate(this.doc, msg.data)))
        return
      }
      Y.applyUpdate(this.doc, msg.data, this)
      this.updatesReceived++
      if (msg.syncType === SyncType.Step2) this.synced = true
    } else if (msg.type === MessageType.Awareness) {
      for (const e of decodeAwarenessUpdate(msg.update)) {
        if (e.state === 'null') this.awareness.delete(e.clientId)
        else this.awareness.set(e.clientId, JSON.parse(e.state))
      }
    } else if (msg.type === MessageType.Auth) {
      const decoder = decoding.createDecoder(frame)
      decoding.readVarUint(decoder)
      decoding.readVarUint(decoder)
      this.denied.push(decoding.readVarString(decoder))
    }
  }
}
