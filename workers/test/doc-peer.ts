/**
 * A y-protocols peer for tests inside workerd: a Y.Doc joined to a document
 * room through the edge's real fetch handler, speaking the same framing as
 * the stock y-websocket client, with hooks to send raw frames and to wait
 * for what the room answers.
 */

import { exports } from 'cloudflare:workers'
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
import { Waiters } from './waiters.ts'

export const EDGE = 'http://edge.test'

export async function upgrade(path: string, headers: Record<string, string> = {}): Promise<Response> {
  return exports.default.fetch(new Request(`${EDGE}${path}`, { headers: { Upgrade: 'websocket', ...headers } }))
}

export async function openSocket(path: string, headers?: Record<string, string>): Promise<WebSocket> {
  const res = await upgrade(path, headers)
  if (res.status !== 101 || !res.webSocket) throw new Error(`no upgrade: ${res.status} ${await res.text()}`)
  res.webSocket.accept()
  res.webSocket.binaryType = 'arraybuffer'
  return res.webSocket
}

export interface Closed {
  code: number
  reason: string
}

export class DocPeer {
  readonly doc: Y.Doc
  readonly ws: WebSocket
  readonly awareness = new Map<number, unknown>()
  readonly denied: string[] = []
  synced = false
  /** Sync step 2 and update frames received: the room's echo of a write counts. */
  updatesReceived = 0
  closed: Closed | null = null
  private readonly waiters = new Waiters()

  private constructor(ws: WebSocket, doc: Y.Doc) {
    this.ws = ws
    this.doc = doc
    ws.addEventListener('message', (event) => {
      if (typeof event.data !== 'string') this.receive(new Uint8Array(event.data as ArrayBuffer))
      this.notify()
    })
    ws.addEventListener('close', (event) => {
      this.closed = { code: event.code, reason: event.reason }
      this.notify()
    })
    doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin !== this && this.closed === null) ws.send(encodeSyncUpdate(update))
    })
    ws.send(encodeSyncStep1(Y.encodeStateVector(doc)))
  }

  static async connect(docId: string, options: { token?: string; doc?: Y.Doc } = {}): Promise<DocPeer> {
    const query = options.token === undefined ? '' : `?token=${encodeURIComponent(options.token)}`
    return new DocPeer(await openSocket(`/v1/docs/${docId}${query}`), options.doc ?? new Y.Doc())
  }

  /** Resolves once `predicate` holds, re-checked after every frame or close the peer receives. */
  until(predicate: () => boolean): Promise<void> {
    return this.waiters.until(predicate)
  }

  async whenClosed(): Promise<Closed> {
    await this.until(() => this.closed !== null)
    return this.closed as Closed
  }

  send(frame: Uint8Array | string): void {
    this.ws.send(frame)
  }

  setPresence(state: unknown, clock = 1, clientId = this.doc.clientID): void {
    this.send(encodeAwarenessFrame(encodeAwarenessUpdate([{ clientId, clock, state: JSON.stringify(state) }])))
  }

  close(): void {
    this.ws.close(1000, 'done')
  }

  private notify(): void {
    this.waiters.notify()
  }

  private receive(frame: Uint8Array): void {
    const msg = decodeDocMessage(frame)
    if (msg.type === MessageType.Sync) {
      if (msg.syncType === SyncType.Step1) {
        this.ws.send(encodeSyncStep2(Y.encodeStateAsUpdate(this.doc, msg.data)))
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

/**
 * How the edge refused an upgrade: it accepts and closes at once with
 * `4000 + status` and a reason starting with the error code. Returns the
 * status and code as an HTTP error would carry them.
 */
export async function refusal(
  path: string,
  headers?: Record<string, string>,
): Promise<{ status: number; code: string }> {
  const res = await upgrade(path, headers)
  const ws = res.webSocket
  if (res.status !== 101 || !ws) {
    return { status: res.status, code: ((await res.json()) as { error: { code: string } }).error.code }
  }
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.addEventListener('close', (event) => resolve({ code: event.code, reason: event.reason }))
  })
  ws.accept()
  const { code, reason } = await closed
  return { status: code - 4000, code: reason.slice(0, reason.indexOf(':')) }
}
