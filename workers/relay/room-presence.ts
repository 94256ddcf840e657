/**
 * A room's presence: the awareness table plus which socket owns each
 * awareness client id. Ownership lives in socket attachments, so after the
 * room wakes from hibernation the table is rebuilt from them; a socket may
 * only speak for the client ids it introduced, so no one can rewrite or
 * remove another person's cursor.
 */
import { encodeAwarenessFrame } from '@vivim/shared'
import { AwarenessTable, decodeAwarenessUpdate, encodeAwarenessUpdate } from './awareness-table.ts'
import { awarenessIds, setSocketState, socketState, withAwareness } from './socket-state.ts'

export type PresenceResult = { ok: true; frame: Uint8Array | null } | { ok: false; reason: string; forbidden: boolean }

export class RoomPresence {
  private table: AwarenessTable | null = null
  private readonly owners = new Map<number, WebSocket>()
  private readonly sockets: () => WebSocket[]

  constructor(sockets: () => WebSocket[]) {
    this.sockets = sockets
  }

  /** Every known state, as a frame for a socket that just joined or asked; null when empty. */
  snapshotFrame(): Uint8Array | null {
    const entries = this.load().entries()
    return entries.length === 0 ? null : encodeAwarenessFrame(encodeAwarenessUpdate(entries))
  }

  /** Applies a socket's awareness update; on success, the frame to relay (null when nothing changed). */
  receive(ws: WebSocket, update: Uint8Array): PresenceResult {
    let entries: ReturnType<typeof decodeAwarenessUpdate>
    try {
      entries = decodeAwarenessUpdate(update)
    } catch {
      return { ok: false, reason: 'malformed awareness update', forbidden: false }
    }
    const table = this.load()
    for (const e of entries) {
      const owner = this.owners.get(e.clientId)
      if (owner !== undefined && owner !== ws) {
        return { ok: false, reason: `awareness client ${e.clientId} belongs to another connection`, forbidden: true }
      }
    }
    const changed = table.apply(entries)
    if (changed.length === 0) return { ok: true, frame: null }
    for (const e of changed) {
      if (e.state === 'null') this.owners.delete(e.clientId)
      else this.owners.set(e.clientId, ws)
    }
    setSocketState(ws, withAwareness(socketState(ws), changed))
    return { ok: true, frame: encodeAwarenessFrame(encodeAwarenessUpdate(changed)) }
  }

  /** A socket left: its states go; returns the frame that tells the others, or null. */
  leave(ws: WebSocket): Uint8Array | null {
    this.load()
    const ids = awarenessIds(socketState(ws)).filter((id) => this.owners.get(id) === ws)
    if (ids.length === 0) return null
    const gone = this.load().remove(ids)
    for (const id of ids) this.owners.delete(id)
    setSocketState(ws, { ...socketState(ws), awareness: {} })
    return encodeAwarenessFrame(encodeAwarenessUpdate(gone))
  }

  private load(): AwarenessTable {
    if (this.table) return this.table
    const table = new AwarenessTable()
    for (const ws of this.sockets()) {
      for (const [id, [clock, state]] of Object.entries(socketState(ws).awareness)) {
        table.apply([{ clientId: Number(id), clock, state: state ?? '{}' }])
        this.owners.set(Number(id), ws)
      }
    }
    this.table = table
    return table
  }
}
