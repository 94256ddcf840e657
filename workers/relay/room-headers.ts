/**
 * How the Worker hands a request to a room. Rooms are reached only through
 * their namespace bindings, never from outside, so the Worker decides access
 * and passes the decision in headers of a request it builds from scratch:
 * nothing a client sends can set them.
 */
import { ErrorCode, VivimError } from '@vivim/shared'
import type { Access } from '../http/access.ts'

const NAME_HEADER = 'X-Vivim-Room'
const ACCESS_HEADER = 'X-Vivim-Access'
const RESUME_HEADER = 'X-Vivim-Resume'

export interface RoomRequest {
  /** The document id or topic name the room serves. */
  readonly name: string
  readonly access: Access
  /** For topic subscribers: `cursor:<n>` or `after:<message id>`. */
  readonly resume: string | null
}

/** A WebSocket upgrade for the room, carrying the access decision. */
export function connectRequest(name: string, access: Access, resume: string | null = null): Request {
  const headers: Record<string, string> = {
    Upgrade: 'websocket',
    [NAME_HEADER]: name,
    [ACCESS_HEADER]: JSON.stringify(access),
  }
  if (resume !== null) headers[RESUME_HEADER] = resume
  return new Request('https://room.internal/connect', { headers })
}

/** A plain HTTP request to the room (for example a publish), carrying the access decision. */
export function roomRequest(path: string, name: string, access: Access, body: Uint8Array): Request {
  return new Request(`https://room.internal${path}`, {
    method: 'POST',
    headers: { [NAME_HEADER]: name, [ACCESS_HEADER]: JSON.stringify(access) },
    body,
  })
}

export function readRoomRequest(request: Request): RoomRequest {
  const name = request.headers.get(NAME_HEADER)
  const access = request.headers.get(ACCESS_HEADER)
  if (name === null || access === null) {
    throw new VivimError(ErrorCode.BadRequest, 'a room takes only requests handed over by the edge')
  }
  return { name, access: JSON.parse(access) as Access, resume: request.headers.get(RESUME_HEADER) }
}

export function isUpgrade(request: Request): boolean {
  return request.headers.get('Upgrade')?.toLowerCase() === 'websocket'
}
