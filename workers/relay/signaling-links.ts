/**
 * The Worker's internal WebSockets to the signaling objects, opened on
 * behalf of one client socket (`signaling-session.ts`): its lease at its
 * identity's `SignalingLeases`, and a link to the `SignalingRoom` of each
 * room it joins. Each is one subrequest of the client's connection. A
 * lease refused (the identity's cap) comes back as the object's JSON error
 * and is thrown as that `VivimError`, so the Worker refuses the connect with
 * the object's own code.
 */
import { CloseCode, type ErrorBody, ErrorCode, isErrorCode, VivimError } from '@vivim/shared'
import type { Access } from '../http/access.ts'
import { connectRequest } from './room-headers.ts'

interface Upgradable {
  fetch(request: Request): Promise<Response>
}

/** The lease of a client socket admitted with `access` on its identity `did`. */
export function openLease(env: Env, did: string, access: Access): Promise<WebSocket> {
  return openLink(env.SIGNALING_LEASES.getByName(did), connectRequest(did, access))
}

/** A member link to the object of room `name`; the caller has checked the join. */
export function openRoomLink(env: Env, name: string): Promise<WebSocket> {
  const request = new Request('https://signaling.internal/member', { headers: { Upgrade: 'websocket' } })
  return openLink(env.SIGNALING_ROOM.getByName(name), request)
}

/**
 * The close code a client socket gets when one of its links closed without
 * being asked: expiry (4408) and revocation (4401) are passed on; anything
 * else means the object went away (a deploy, a reset), and 1001 tells the
 * client to connect again, which a stock y-webrtc client does, joining its
 * rooms anew.
 */
export function passedOn(code: number): number {
  return code === CloseCode.TokenExpired || code === CloseCode.Unauthorized ? code : CloseCode.GoingAway
}

async function openLink(stub: Upgradable, request: Request): Promise<WebSocket> {
  const response = await stub.fetch(request)
  const ws = response.webSocket
  if (response.status !== 101 || ws === null) throw await refusalOf(response)
  ws.accept()
  return ws
}

/** The object's JSON error as a `VivimError` (an unreadable answer is an internal error). */
async function refusalOf(response: Response): Promise<VivimError> {
  const body = (await response.json().catch(() => null)) as Partial<ErrorBody> | null
  const error = body?.error
  if (error !== undefined && isErrorCode(error.code)) return new VivimError(error.code, error.message)
  return new VivimError(ErrorCode.Internal, `a signaling object answered ${response.status}`)
}
