/**
 * How the Worker hands a connection to a room: the room is reached only
 * through its namespace binding, never from outside, so the Worker decides
 * access and passes the decision in headers the client cannot set (the
 * Worker builds the request to the room from scratch).
 */
import { ErrorCode, VivimError } from '@vivim/shared'
import type { Access } from '../http/access.ts'

const DOC_ID_HEADER = 'X-Vivim-Doc-Id'
const ACCESS_HEADER = 'X-Vivim-Access'

export function connectRequest(docId: string, access: Access): Request {
  return new Request('https://room.internal/connect', {
    headers: { Upgrade: 'websocket', [DOC_ID_HEADER]: docId, [ACCESS_HEADER]: JSON.stringify(access) },
  })
}

export function connectRequestAccess(request: Request): { docId: string; access: Access } {
  const docId = request.headers.get(DOC_ID_HEADER)
  const access = request.headers.get(ACCESS_HEADER)
  if (request.headers.get('Upgrade') !== 'websocket' || docId === null || access === null) {
    throw new VivimError(ErrorCode.BadRequest, 'a room takes only WebSocket connections handed over by the edge')
  }
  return { docId, access: JSON.parse(access) as Access }
}
