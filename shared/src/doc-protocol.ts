/**
 * The document endpoint's wire format: y-protocols framing, exactly as the
 * public `y-websocket` client and server speak it, one message per binary
 * WebSocket frame.
 *
 *   message        = varUint(messageType) payload
 *   Sync (0)       = varUint(syncType) varUint8Array(data)
 *                      syncType 0 step1:  data = state vector
 *                      syncType 1 step2:  data = update (what the peer lacks)
 *                      syncType 2 update: data = update
 *   Awareness (1)  = varUint8Array(awareness update)
 *   Auth (2)       = varUint(0 = permission denied) varString(reason)   (server to client)
 *   QueryAwareness (3) = (empty)                                          (client to server)
 *
 * The sync and awareness payloads are y-protocols' own (`y-protocols/sync`,
 * `y-protocols/awareness`); this module names the outer tags once and writes
 * the whole frames the room sends.
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import * as auth from 'y-protocols/auth'
import * as sync from 'y-protocols/sync'

/** The outer tag of a document socket message. */
export const MessageType = {
  Sync: 0,
  Awareness: 1,
  Auth: 2,
  QueryAwareness: 3,
} as const

/** One of `MessageType`. */
export type MessageType = (typeof MessageType)[keyof typeof MessageType]

/** The sync message kinds of `y-protocols/sync`. */
export const SyncType = {
  Step1: sync.messageYjsSyncStep1,
  Step2: sync.messageYjsSyncStep2,
  Update: sync.messageYjsUpdate,
} as const

function frame(type: MessageType, write: (encoder: encoding.Encoder) => void): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, type)
  write(encoder)
  return encoding.toUint8Array(encoder)
}

/** A sync step 1 frame: the sender's state vector. */
export function encodeSyncStep1(stateVector: Uint8Array): Uint8Array {
  return frame(MessageType.Sync, (e) => {
    encoding.writeVarUint(e, SyncType.Step1)
    encoding.writeVarUint8Array(e, stateVector)
  })
}

/** A sync step 2 frame: what the other side lacks. */
export function encodeSyncStep2(update: Uint8Array): Uint8Array {
  return frame(MessageType.Sync, (e) => {
    encoding.writeVarUint(e, SyncType.Step2)
    encoding.writeVarUint8Array(e, update)
  })
}

/** A sync update frame. */
export function encodeSyncUpdate(update: Uint8Array): Uint8Array {
  return frame(MessageType.Sync, (e) => sync.writeUpdate(e, update))
}

/** An awareness frame around an encoded awareness update. */
export function encodeAwarenessFrame(awarenessUpdate: Uint8Array): Uint8Array {
  return frame(MessageType.Awareness, (e) => encoding.writeVarUint8Array(e, awarenessUpdate))
}

/** An auth "permission denied" frame with its reason (room to client). */
export function encodePermissionDenied(reason: string): Uint8Array {
  return frame(MessageType.Auth, (e) => auth.writePermissionDenied(e, reason))
}

/** A query awareness frame (client to room). */
export function encodeQueryAwareness(): Uint8Array {
  return frame(MessageType.QueryAwareness, () => {})
}

/** A decoded client frame. `data` is the state vector (step1) or update (step2, update). */
export type DocMessage =
  | { type: typeof MessageType.Sync; syncType: (typeof SyncType)[keyof typeof SyncType]; data: Uint8Array }
  | { type: typeof MessageType.Awareness; update: Uint8Array }
  | { type: typeof MessageType.Auth }
  | { type: typeof MessageType.QueryAwareness }

/** Decodes one frame; throws on anything that is not a whole, well-formed y-protocols message. */
export function decodeDocMessage(bytes: Uint8Array): DocMessage {
  const decoder = decoding.createDecoder(bytes)
  const type = decoding.readVarUint(decoder)
  let message: DocMessage
  switch (type) {
    case MessageType.Sync: {
      const syncType = decoding.readVarUint(decoder)
      if (syncType !== SyncType.Step1 && syncType !== SyncType.Step2 && syncType !== SyncType.Update) {
        throw new Error(`unknown sync message type ${syncType}`)
      }
      message = { type, syncType, data: decoding.readVarUint8Array(decoder) }
      break
    }
    case MessageType.Awareness:
      message = { type, update: decoding.readVarUint8Array(decoder) }
      break
    case MessageType.Auth:
      decoding.readVarUint(decoder)
      decoding.readVarString(decoder)
      message = { type }
      break
    case MessageType.QueryAwareness:
      message = { type }
      break
    default:
      throw new Error(`unknown message type ${type}`)
  }
  if (decoding.hasContent(decoder)) throw new Error('trailing bytes after the message')
  return message
}
