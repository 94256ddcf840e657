/**
 * Per-socket state of a room. It lives in the socket's attachment, which the
 * runtime keeps while the room hibernates (the room's memory does not
 * survive), so who the socket is and what it may do outlive hibernation.
 * Attachments hold at most 2,048 bytes: awareness states are kept there only
 * while they fit, and their client ids and clocks always.
 */
import { Limits } from '@vivim/shared'
import type { Access } from '../http/access.ts'
import type { AwarenessEntry } from './awareness-table.ts'

export interface SocketState {
  /** A random id of this socket, for rooms that key state by socket (client ids of DID-less sockets). */
  readonly sid: string
  readonly did: string | null
  /** Whether the socket receives content (a write-only grant sends without reading). */
  readonly canRead: boolean
  readonly canWrite: boolean
  /** Whether the credential acts as the owner: the owner itself, or a chain granting `admin`. */
  readonly canAdmin: boolean
  /** When the socket's credential expires, ms since the epoch; null for never. */
  readonly exp: number | null
  /** The ids of the credential's token chain. */
  readonly tokens: readonly string[]
  /** Awareness client id → [clock, JSON state or null when it did not fit]. */
  readonly awareness: Readonly<Record<string, readonly [number, string | null]>>
}

const ATTACHMENT_BUDGET = 1800

// Reading an attachment deserializes it; a room reads one per frame, so keep
// what was read or written. Sockets revived after hibernation are new objects
// and miss this cache once.
const cache = new WeakMap<WebSocket, SocketState>()

export function socketState(ws: WebSocket): SocketState {
  let state = cache.get(ws)
  if (!state) {
    state = (ws.deserializeAttachment() as SocketState | null) ?? {
      sid: '',
      did: null,
      canRead: false,
      canWrite: false,
      canAdmin: false,
      exp: null,
      tokens: [],
      awareness: {},
    }
    cache.set(ws, state)
  }
  return state
}

/**
 * What a peer instance acts with inside a room (federation's writes and
 * publishes, through the rooms' RPC methods): no DID, so a document checks
 * its schema but no one's rules (the peer's own room checked them), and
 * read and write.
 */
export const PEER_ACCESS: Access = { did: null, canRead: true, canWrite: true, exp: null, tokens: [], newOwner: null }

/** The state of a socket just admitted with `access`. */
export function admittedState(access: Access): SocketState {
  return {
    sid: crypto.randomUUID(),
    did: access.did,
    canRead: access.canRead,
    canWrite: access.canWrite,
    canAdmin: access.canAdmin === true,
    exp: access.exp,
    tokens: access.tokens,
    awareness: {},
  }
}

export function setSocketState(ws: WebSocket, state: SocketState): void {
  ws.serializeAttachment(state)
  cache.set(ws, state)
}

/** The socket's state after it changed the given awareness entries. */
export function withAwareness(state: SocketState, changed: readonly AwarenessEntry[]): SocketState {
  const awareness: Record<string, readonly [number, string | null]> = { ...state.awareness }
  for (const e of changed) {
    if (e.state === 'null') delete awareness[e.clientId]
    else awareness[e.clientId] = [e.clock, e.state]
  }
  let next: SocketState = { ...state, awareness }
  if (JSON.stringify(next).length > ATTACHMENT_BUDGET) {
    const idsOnly = Object.fromEntries(Object.entries(awareness).map(([id, [clock]]) => [id, [clock, null] as const]))
    next = { ...state, awareness: idsOnly }
  }
  return next
}

export function awarenessIds(state: SocketState): number[] {
  return Object.keys(state.awareness).map(Number)
}

/**
 * A token bucket of frames per socket: `burst` frames at once, refilled at
 * `perSecond`. Lives in memory only; a room that wakes from hibernation
 * starts every socket with a full bucket, which is harmless.
 */
export class FrameBudget {
  private tokens: number
  private updatedAt: number
  private readonly perSecond: number
  private readonly burst: number

  constructor(perSecond: number, burst: number) {
    this.perSecond = perSecond
    this.burst = burst
    this.tokens = burst
    this.updatedAt = Date.now()
  }

  take(): boolean {
    const now = Date.now()
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.updatedAt) / 1000) * this.perSecond)
    this.updatedAt = now
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }
}

const budgets = new WeakMap<WebSocket, FrameBudget>()

/** The socket's frame budget at the limits every room applies. */
export function frameBudget(ws: WebSocket): FrameBudget {
  let budget = budgets.get(ws)
  if (!budget) {
    budget = new FrameBudget(Limits.maxFramesPerSecond, Limits.frameBurst)
    budgets.set(ws, budget)
  }
  return budget
}
