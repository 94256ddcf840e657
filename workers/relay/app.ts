/**
 * The relay: Yjs document rooms (`/v1/docs/<docId>`), pubsub topic rooms
 * (`/v1/topics/<topic>`) and WebRTC signaling (`/v1/signaling`), each backed
 * by Durable Objects.
 */
import { ErrorCode, parseDocId, VivimError } from '@vivim/shared'
import { Hono } from 'hono'
import { authorize } from '../http/access.ts'
import type { AppEnv } from '../http/types.ts'
import { connectRequest } from './room-headers.ts'

export const relay = new Hono<AppEnv>()

relay.get('/v1/docs/:docId', async (c) => {
  const { docId } = parseDocId(c.req.param('docId'))
  if (c.req.header('Upgrade')?.toLowerCase() !== 'websocket') {
    throw new VivimError(ErrorCode.UpgradeRequired, 'a document is reached over a WebSocket')
  }
  const access = await authorize(c.req.raw, c.env, `doc:${docId}`)
  return c.env.DOC_ROOM.getByName(docId).fetch(connectRequest(docId, access))
})
