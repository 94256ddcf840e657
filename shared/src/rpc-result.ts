/**
 * One convention for refusals across Durable Object RPC. An error thrown by
 * an RPC method reaches its caller as a plain `Error`: the message survives,
 * the class and the stable code do not. So an RPC method that can refuse
 * returns a `Settled<T>` made by `settle`, and its caller calls `unwrap`,
 * which throws the same `VivimError` again, code and message intact. Errors
 * that are not `VivimError`s (a bug, a storage failure) still throw: they are
 * the runtime's to report, and a retry may succeed.
 *
 * @example
 * ```ts
 * // in the object
 * publish(bytes: Uint8Array): Promise<Settled<PublishResult>> { return settle(() => this.store(bytes)) }
 * // in its caller
 * const result = unwrap(await room.publish(bytes)) // throws VivimError(ErrorCode.RateLimited, …) as thrown there
 * ```
 */
import { type ErrorCode, VivimError } from './errors.ts'

/** What an RPC method that may refuse returns: its value, or the refusal's code and message. */
export type Settled<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly code: ErrorCode; readonly message: string }

/** Runs `run`; a `VivimError` it throws becomes a refusal, anything else is thrown on. */
export async function settle<T>(run: () => T | Promise<T>): Promise<Settled<T>> {
  try {
    return { ok: true, value: await run() }
  } catch (error) {
    return refused(error)
  }
}

/** A `VivimError` as a refusal; anything else is thrown on. */
export function refused(error: unknown): Settled<never> {
  if (!(error instanceof VivimError)) throw error
  return { ok: false, code: error.code, message: error.message }
}

/** The value, or the refusal thrown again as the `VivimError` it was. */
export function unwrap<T>(settled: Settled<T>): T {
  if (settled.ok) return settled.value
  throw new VivimError(settled.code, settled.message)
}
