/**
 * A room's presence: the awareness table plus which socket owns each
 * awareness client id. Ownership lives in socket attachments, so after the
 * room wakes from hibernation the table is rebuilt from them; a socket may
 * only speak for the client ids it introduced, so no one can rewrite or
 * remove another person's cursor.
 */
import { CloseCode, encodeAwarenessFrame, Limits } from '@vivim/shared'
import { type AwarenessEntry, AwarenessTable, decodeAwarenessUpdate, encodeAwarenessUpdate } from './awareness-table.ts'
import { awarenessIds, setSocketState, socketState, withAwareness } from './socket-state.ts'

export type PresenceResult = { ok: true; frame: Uint8Array | null } | { ok: false; reason: string; code: CloseCode }

/** How presence shares the room's ownership of client ids with its document (`client-owners.ts`). */
export interface ClientIdOwnership {
  /** The first of `ids` that another identity writes with, or null. */
  foreign(ws: WebSocket, ids: number[]): number | null
}

const NO_OWNERSHIP: ClientIdOwnership = { foreign: () => null }

export class RoomPresence {
  private table: AwarenessTable | null = null
  private readonly owners = new Map<number, WebSocket>()
  private readonly sockets: () => WebSocket[]
  private readonly ownership: ClientIdOwnership

  constructor(sockets: () => WebSocket[], ownership: ClientIdOwnership = NO_OWNERSHIP) {
    this.sockets = sockets
    this.ownership = ownership
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
      return { ok: false, reason: 'malformed awareness update', code: CloseCode.BadFrame }
    }
    const table = this.load()
    const refused = this.refusal(ws, table, entries)
    if (refused !== null) return refused
    const changed = table.apply(entries)
    if (changed.length === 0) return { ok: true, frame: null }
    for (const e of changed) {
      if (e.state === 'null') this.owners.delete(e.clientId)
      else this.owners.set(e.clientId, ws)
    }
    setSocketState(ws, withAwareness(socketState(ws), changed))
    return { ok: true, frame: encodeAwarenessFrame(encodeAwarenessUpdate(changed)) }
  }

  /** The socket that announced awareness client `id`, if one holds it now. */
  ownerOf(id: number): WebSocket | undefined {
    this.load()
    return this.owners.get(id)
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

  /**
   * Why the socket may not apply these entries, or null. Caps keep one socket from flooding every
   * reader: a state's size, the ids one socket speaks for, and the room's total (which bounds the
   * snapshot a joiner receives).
   */
  private refusal(ws: WebSocket, table: AwarenessTable, entries: readonly AwarenessEntry[]): PresenceResult | null {
    const ids = new Set(awarenessIds(socketState(ws)))
    let added = 0
    for (const e of entries) {
      const owner = this.owners.get(e.clientId)
      if (owner !== undefined && owner !== ws) {
        return {
          ok: false,
          reason: `awareness client ${e.clientId} belongs to another connection`,
          code: CloseCode.Forbidden,
        }
      }
      if (e.state.length > Limits.maxAwarenessStateBytes) {
        return {
          ok: false,
          reason: `awareness state larger than ${Limits.maxAwarenessStateBytes} bytes`,
          code: CloseCode.MessageTooBig,
        }
      }
      if (e.state !== 'null') {
        ids.add(e.clientId)
        added += e.state.length - (table.stateOf(e.clientId)?.length ?? 0)
      }
    }
    if (ids.size > Limits.maxAwarenessIdsPerSocket) {
      return {
        ok: false,
        reason: `at most ${Limits.maxAwarenessIdsPerSocket} awareness clients per connection`,
        code: CloseCode.Forbidden,
      }
    }
    // A full room ignores new or larger states instead of closing their sender: whoever filled it
    // must not be able to take anyone's editing away, only their cursor until space frees.
    if (added > 0 && table.bytes + added > Limits.maxAwarenessRoomBytes) return { ok: true, frame: null }
    const foreign = this.ownership.foreign(ws, [...ids])
    if (foreign !== null) {
      return { ok: false, reason: `Yjs client ${foreign} belongs to another identity`, code: CloseCode.Forbidden }
    }
    return null
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
