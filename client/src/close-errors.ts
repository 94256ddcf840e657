/**
 * How the SDK reads a closed socket: the edge's 4xxx close codes mirror HTTP
 * statuses, and its reasons start with the machine-readable error code
 * (`token_expired: …`), so every way a connection ends becomes a typed
 * `VivimError`, and the provider knows whether retrying can help.
 */
import { ErrorCode, isErrorCode, VivimError } from '@vivim/shared'

const BY_CLOSE_CODE: Record<number, ErrorCode> = {
  1003: ErrorCode.BadRequest,
  1009: ErrorCode.PayloadTooLarge,
  4400: ErrorCode.BadRequest,
  4401: ErrorCode.Unauthorized,
  4403: ErrorCode.Forbidden,
  4404: ErrorCode.NotFound,
  4408: ErrorCode.TokenExpired,
  // The owner deleted the document: reconnecting would write this client's copy back, so it is final.
  4410: ErrorCode.NotFound,
  4413: ErrorCode.PayloadTooLarge,
  4422: ErrorCode.InvalidRecord,
  4429: ErrorCode.RateLimited,
  4430: ErrorCode.RateLimited,
}

export function connectionError(message: string): VivimError {
  return new VivimError(ErrorCode.ConnectionFailed, message)
}

/** The error a close means; null for a close that is no error (the client's own, or a clean one). */
export function closeError(code: number, reason: string): VivimError | null {
  if (code === 1000) return null
  const prefixed = /^([a-z_]+): /.exec(reason)?.[1]
  const mapped = prefixed !== undefined && isErrorCode(prefixed) ? prefixed : BY_CLOSE_CODE[code]
  if (mapped === undefined) return connectionError(`connection closed (${code}${reason ? `: ${reason}` : ''})`)
  return new VivimError(mapped, reason || `closed with ${code}`)
}

/** Whether retrying cannot help: the edge decided, and nothing about the request will change. */
export function isTerminal(error: VivimError, canRefreshToken: boolean): boolean {
  switch (error.code) {
    case ErrorCode.ConnectionFailed:
    case ErrorCode.RateLimited:
    case ErrorCode.Internal:
      return false
    case ErrorCode.TokenExpired:
      return !canRefreshToken
    default:
      return true
  }
}
