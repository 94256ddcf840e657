/**
 * The room's copy of awareness (presence, cursors) in the y-protocols
 * awareness update format:
 *
 *   update = varUint(n) n × ( varUint(clientId) varUint(clock) varString(JSON state, "null" = gone) )
 *
 * It applies y-protocols' merge rule (a higher clock wins; a removal at the
 * same clock wins) but, unlike y-protocols' `Awareness` class, runs no timer:
 * a timer would keep an idle room awake, so states leave when their socket
 * closes instead of when they go stale.
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'

export interface AwarenessEntry {
  readonly clientId: number
  readonly clock: number
  /** The state as JSON text; `"null"` when the client is gone. */
  readonly state: string
}

export function decodeAwarenessUpdate(update: Uint8Array): AwarenessEntry[] {
  const decoder = decoding.createDecoder(update)
  const count = decoding.readVarUint(decoder)
  const entries: AwarenessEntry[] = []
  for (let i = 0; i < count; i++) {
    const clientId = decoding.readVarUint(decoder)
    const clock = decoding.readVarUint(decoder)
    const state = decoding.readVarString(decoder)
    JSON.parse(state)
    entries.push({ clientId, clock, state })
  }
  if (decoding.hasContent(decoder)) throw new Error('trailing bytes after the awareness update')
  return entries
}

export function encodeAwarenessUpdate(entries: readonly AwarenessEntry[]): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, entries.length)
  for (const e of entries) {
    encoding.writeVarUint(encoder, e.clientId)
    encoding.writeVarUint(encoder, e.clock)
    encoding.writeVarString(encoder, e.state)
  }
  return encoding.toUint8Array(encoder)
}

export class AwarenessTable {
  private readonly clocks = new Map<number, number>()
  private readonly states = new Map<number, string>()
  private stateBytes = 0

  get size(): number {
    return this.states.size
  }

  /** The characters of JSON every state holds together. */
  get bytes(): number {
    return this.stateBytes
  }

  stateOf(clientId: number): string | undefined {
    return this.states.get(clientId)
  }

  private setState(clientId: number, state: string | null): void {
    this.stateBytes -= this.states.get(clientId)?.length ?? 0
    if (state === null) {
      this.states.delete(clientId)
      return
    }
    this.states.set(clientId, state)
    this.stateBytes += state.length
  }

  /** Merges entries; returns those that changed the table, to relay on. */
  apply(entries: readonly AwarenessEntry[]): AwarenessEntry[] {
    const changed: AwarenessEntry[] = []
    for (const e of entries) {
      const current = this.clocks.get(e.clientId) ?? 0
      const removal = e.state === 'null'
      if (current < e.clock || (current === e.clock && removal && this.states.has(e.clientId))) {
        this.clocks.set(e.clientId, e.clock)
        this.setState(e.clientId, removal ? null : e.state)
        changed.push(e)
      }
    }
    return changed
  }

  /** Removes clients (their socket closed); returns the entries that tell the others. */
  remove(clientIds: Iterable<number>): AwarenessEntry[] {
    const gone: AwarenessEntry[] = []
    for (const clientId of clientIds) {
      const clock = (this.clocks.get(clientId) ?? 0) + 1
      this.clocks.set(clientId, clock)
      this.setState(clientId, null)
      gone.push({ clientId, clock, state: 'null' })
    }
    return gone
  }

  entries(): AwarenessEntry[] {
    return [...this.states].map(([clientId, state]) => ({ clientId, clock: this.clocks.get(clientId) ?? 0, state }))
  }
}
