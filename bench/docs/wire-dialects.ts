/**
 * The two wire dialects the benchmark speaks, both y-protocols framing, one
 * message per binary WebSocket frame:
 *
 *   yjs         message = varUint(type) payload, as `@y/websocket-server` and
 *               the VIVIM relay speak it (0 sync, 1 awareness, 2 auth, 3 query-awareness).
 *   hocuspocus  message = varString(documentName) varUint(type) payload, the
 *               same types plus 4 sync-reply, 5/6 stateless, 7 close, 8 sync-status
 *               (`@hocuspocus/server` src/types.ts). A socket is admitted to a
 *               document only after an auth message: varUint(2) varUint(0 = token)
 *               varString(token); the server answers varUint(2) varUint(2 =
 *               authenticated) varString(scope), or varUint(1 = denied) varString(reason).
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'

export type Dialect = 'yjs' | 'hocuspocus'

export type ServerFrame =
  | { kind: 'step1'; stateVector: Uint8Array }
  | { kind: 'step2'; update: Uint8Array }
  | { kind: 'update'; update: Uint8Array }
  | { kind: 'authenticated' }
  | { kind: 'denied'; reason: string }
  | { kind: 'closed'; reason: string }
  | { kind: 'ignored'; type: number }

export interface Framing {
  readonly dialect: Dialect
  /** Frames a client sends right after the socket opens, before sync step 1. */
  hello(): Uint8Array[]
  syncStep1(stateVector: Uint8Array): Uint8Array
  syncStep2(update: Uint8Array): Uint8Array
  update(update: Uint8Array): Uint8Array
  decode(frame: Uint8Array): ServerFrame
}

const MSG_SYNC = 0
const MSG_AUTH = 2
const MSG_HOCUSPOCUS_SYNC_REPLY = 4
const MSG_HOCUSPOCUS_CLOSE = 7
const SYNC_STEP1 = 0
const SYNC_STEP2 = 1
const SYNC_UPDATE = 2
const HOCUSPOCUS_AUTH_TOKEN = 0
const HOCUSPOCUS_AUTH_DENIED = 1
const HOCUSPOCUS_AUTH_OK = 2

export function framing(dialect: Dialect, documentName: string): Framing {
  const message = (write: (encoder: encoding.Encoder) => void): Uint8Array => {
    const encoder = encoding.createEncoder()
    if (dialect === 'hocuspocus') encoding.writeVarString(encoder, documentName)
    write(encoder)
    return encoding.toUint8Array(encoder)
  }
  const sync = (syncType: number, data: Uint8Array) =>
    message((e) => {
      encoding.writeVarUint(e, MSG_SYNC)
      encoding.writeVarUint(e, syncType)
      encoding.writeVarUint8Array(e, data)
    })
  return {
    dialect,
    hello: () =>
      dialect === 'hocuspocus'
        ? [
            message((e) => {
              encoding.writeVarUint(e, MSG_AUTH)
              encoding.writeVarUint(e, HOCUSPOCUS_AUTH_TOKEN)
              encoding.writeVarString(e, '')
            }),
          ]
        : [],
    syncStep1: (stateVector) => sync(SYNC_STEP1, stateVector),
    syncStep2: (update) => sync(SYNC_STEP2, update),
    update: (update) => sync(SYNC_UPDATE, update),
    decode: (frame) => decodeFrame(dialect, documentName, frame),
  }
}

function decodeFrame(dialect: Dialect, documentName: string, frame: Uint8Array): ServerFrame {
  const decoder = decoding.createDecoder(frame)
  if (dialect === 'hocuspocus') {
    const name = decoding.readVarString(decoder)
    if (name !== documentName) return { kind: 'ignored', type: -1 }
  }
  const type = decoding.readVarUint(decoder)
  if (type === MSG_SYNC || (dialect === 'hocuspocus' && type === MSG_HOCUSPOCUS_SYNC_REPLY)) {
    const syncType = decoding.readVarUint(decoder)
    const data = decoding.readVarUint8Array(decoder)
    if (syncType === SYNC_STEP1) return { kind: 'step1', stateVector: data }
    if (syncType === SYNC_STEP2) return { kind: 'step2', update: data }
    if (syncType === SYNC_UPDATE) return { kind: 'update', update: data }
    throw new Error(`unknown sync message type ${syncType}`)
  }
  if (type === MSG_AUTH) {
    const authType = decoding.readVarUint(decoder)
    if (dialect === 'yjs') return { kind: 'denied', reason: decoding.readVarString(decoder) }
    if (authType === HOCUSPOCUS_AUTH_OK) return { kind: 'authenticated' }
    if (authType === HOCUSPOCUS_AUTH_DENIED) return { kind: 'denied', reason: decoding.readVarString(decoder) }
    return { kind: 'ignored', type }
  }
  if (dialect === 'hocuspocus' && type === MSG_HOCUSPOCUS_CLOSE) {
    return { kind: 'closed', reason: decoding.readVarString(decoder) }
  }
  return { kind: 'ignored', type }
}
