/**
 * Vector clocks: for each replica, how many of its events a state has seen.
 * Used to tell whether two replicas' states are ordered or concurrent (the
 * SDK's Conflict state). A Yjs state vector is exactly such a clock, keyed by
 * Yjs client id, so `fromStateVector` turns one into the other.
 *
 * @example
 * ```ts
 * import * as Y from 'yjs'
 * import { compareClocks, fromStateVector } from '@vivim/shared'
 * compareClocks(fromStateVector(Y.encodeStateVector(a)), fromStateVector(Y.encodeStateVector(b)))
 * // 'before' | 'after' | 'concurrent' | 'equal'
 * ```
 */
import * as Y from 'yjs'
import { ErrorCode, VivimError } from './errors.ts'

/** Events seen, by replica id. */
export type VectorClock = Readonly<Record<string, number>>
/** How two clocks relate. */
export type ClockOrder = 'after' | 'before' | 'concurrent' | 'equal'

/** How `a` stands to `b`: `after` when `a` has seen everything `b` has and more. */
export function compareClocks(a: VectorClock, b: VectorClock): ClockOrder {
  let aAhead = false
  let bAhead = false
  for (const replica of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const av = a[replica] ?? 0
    const bv = b[replica] ?? 0
    if (av > bv) aAhead = true
    else if (bv > av) bAhead = true
  }
  if (aAhead && bAhead) return 'concurrent'
  if (aAhead) return 'after'
  if (bAhead) return 'before'
  return 'equal'
}

/** The least clock that has seen everything either has seen. */
export function mergeClocks(a: VectorClock, b: VectorClock): VectorClock {
  const merged: Record<string, number> = { ...a }
  for (const [replica, count] of Object.entries(b)) {
    merged[replica] = Math.max(merged[replica] ?? 0, count)
  }
  return merged
}

/** A copy of `clock` with `replica` advanced by `by`. */
export function incrementClock(clock: VectorClock, replica: string, by = 1): VectorClock {
  if (!Number.isSafeInteger(by) || by < 1) {
    throw new VivimError(ErrorCode.BadRequest, 'a clock only moves forward by a positive integer')
  }
  return { ...clock, [replica]: (clock[replica] ?? 0) + by }
}

/**
 * A Yjs state vector (encoded bytes from `Y.encodeStateVector`, or the decoded
 * map) as a vector clock keyed by the decimal Yjs client id.
 */
export function fromStateVector(stateVector: Uint8Array | ReadonlyMap<number, number>): VectorClock {
  let map: ReadonlyMap<number, number>
  if (stateVector instanceof Uint8Array) {
    try {
      map = Y.decodeStateVector(stateVector)
    } catch (cause) {
      throw new VivimError(ErrorCode.InvalidEncoding, 'not a Yjs state vector', { cause })
    }
  } else {
    map = stateVector
  }
  const clock: Record<string, number> = {}
  for (const [client, count] of map) if (count > 0) clock[String(client)] = count
  return clock
}
