/**
 * Every HTTP error the edge sends has one shape, `{ error: { code, message } }`
 * with a stable `code` from `@vivim/shared`, so clients switch on codes and
 * never parse messages. A refused WebSocket upgrade is closed with the same
 * code instead (`refuse-socket.ts`).
 */
import { type ErrorBody, ErrorCode, logLine, VivimError } from '@vivim/shared'
import type { Context, ErrorHandler } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { refuseSocket } from './refuse-socket.ts'

export function errorResponse(error: VivimError, headers?: HeadersInit): Response {
  const body: ErrorBody = error.toJSON()
  const response = Response.json(body, { status: error.status, headers })
  return response
}

/** Maps anything thrown by a route to the JSON error shape; unknown errors become `internal`. */
export const onError: ErrorHandler = (err: Error, c: Context) => {
  if (err instanceof VivimError) {
    const upgrade = c.req.header('Upgrade')?.toLowerCase() === 'websocket'
    return upgrade ? refuseSocket(err) : errorResponse(err)
  }
  if (err instanceof HTTPException) {
    const code = err.status === 413 ? ErrorCode.PayloadTooLarge : ErrorCode.BadRequest
    return errorResponse(new VivimError(code, err.message || 'bad request'))
  }
  logLine('error', 'unexpected error', { path: c.req.path, error: err, stack: err.stack })
  return errorResponse(new VivimError(ErrorCode.Internal, 'internal error'))
}
