/**
 * Documents over HTTP (`docs/protocol.md`, Documents over HTTP), under the
 * same capabilities as the document's socket:
 *
 *   GET    /v1/docs/:docId/update[?since=<sv>]  → the document as a Yjs update (application/octet-stream)
 *   GET    /v1/docs/:docId/state-vector         → its state vector (application/octet-stream)
 *   GET    /v1/docs/:docId/json                 → a typed document's roots as JSON
 *   POST   /v1/docs/:docId/update               body: a Yjs update → { complete, stateVector }
 *   DELETE /v1/docs/:docId                      → 204, the owner only
 *
 * Reads need `read` and answer what is stored (the room flushes first);
 * a write needs `write` and gets every check a socket's write gets (size,
 * schema, the writer's rules, the Yjs clients it writes with), answered
 * once stored and sent to every socket. None of these creates a document:
 * a name nobody owns, or that no socket has opened, is `404 not_found`
 * (a write claiming it by one request would let anyone squat names).
 * The room decides (`doc-http-room.ts`); this file checks credentials,
 * parses, and shapes answers.
 *
 * @example
 * ```ts
 * relay.route('/', docsOverHttp)
 * ```
 */

import { base64urlnopad } from '@scure/base'
import { ErrorCode, Limits, parseDocId, unwrap, VivimError } from '@vivim/shared'
import { Hono } from 'hono'
import * as Y from 'yjs'
import { type Access, authorize } from '../http/access.ts'
import type { AppEnv } from '../http/types.ts'
import type { DocForm, HttpWritten } from './doc-http-room.ts'

export const docsOverHttp = new Hono<AppEnv>()

/** What the credential allows on `docId`; a document nobody owns is not found, and not created. */
export function docAccess(request: Request, env: Env, docId: string): Promise<Access> {
  const room = env.DOC_ROOM.getByName(docId)
  return authorize(request, env, `doc:${docId}`, {
    roomOwner: async () => {
      const owner = await room.owner()
      if (owner === null) {
        throw new VivimError(
          ErrorCode.NotFound,
          `doc:${docId} does not exist: a WebSocket connect that may write creates it`,
        )
      }
      return owner
    },
  })
}

/** The `since` parameter: a state vector in base64url, or null when absent. */
function sinceOf(text: string | undefined): Uint8Array | null {
  if (text === undefined) return null
  try {
    return base64urlnopad.decode(text)
  } catch {
    throw new VivimError(ErrorCode.BadRequest, 'since is a state vector in base64url without padding')
  }
}

/** Reads `docId` in `form` for a credential that may read. */
async function read(request: Request, env: Env, docId: string, form: DocForm, since: Uint8Array | null) {
  const access = await docAccess(request, env, docId)
  if (!access.canRead) throw new VivimError(ErrorCode.Forbidden, 'this credential may not read the document')
  return unwrap(await env.DOC_ROOM.getByName(docId).readOverHttp(docId, form, since))
}

const NO_STORE = { 'cache-control': 'no-store' }

function binary(bytes: Uint8Array): Response {
  return new Response(bytes, { headers: { 'content-type': 'application/octet-stream', ...NO_STORE } })
}

docsOverHttp.get('/v1/docs/:docId/update', async (c) => {
  const { docId } = parseDocId(c.req.param('docId'))
  const since = sinceOf(c.req.query('since'))
  return binary((await read(c.req.raw, c.env, docId, 'update', since)) as Uint8Array)
})

docsOverHttp.get('/v1/docs/:docId/state-vector', async (c) => {
  const { docId } = parseDocId(c.req.param('docId'))
  return binary((await read(c.req.raw, c.env, docId, 'state-vector', null)) as Uint8Array)
})

docsOverHttp.get('/v1/docs/:docId/json', async (c) => {
  const { docId, type } = parseDocId(c.req.param('docId'))
  if (type === null) {
    throw new VivimError(ErrorCode.BadRequest, 'only typed documents have a JSON form; read this one as a Yjs update')
  }
  return c.json(await read(c.req.raw, c.env, docId, 'json', null), 200, NO_STORE)
})

docsOverHttp.post('/v1/docs/:docId/update', async (c) => {
  const { docId } = parseDocId(c.req.param('docId'))
  const access = await docAccess(c.req.raw, c.env, docId)
  if (!access.canWrite) throw new VivimError(ErrorCode.Forbidden, 'this credential may not write the document')
  // The edge's body limit (`Limits.maxRequestBodyBytes`) comes first; a socket's frame limit bounds an update anyway.
  const update = new Uint8Array(await c.req.arrayBuffer())
  if (update.length > Limits.maxFrameBytes) {
    throw new VivimError(ErrorCode.PayloadTooLarge, `an update is at most ${Limits.maxFrameBytes} bytes`)
  }
  // What does not even decode never reaches the room, which would reload the document to refuse it.
  try {
    Y.decodeUpdate(update)
  } catch {
    throw new VivimError(ErrorCode.BadRequest, 'the body is not a Yjs update')
  }
  const written: HttpWritten = unwrap(await c.env.DOC_ROOM.getByName(docId).writeOverHttp(docId, update, access))
  return c.json({ complete: written.complete, stateVector: base64urlnopad.encode(written.stateVector) })
})

docsOverHttp.delete('/v1/docs/:docId', async (c) => {
  const { docId } = parseDocId(c.req.param('docId'))
  const access = await docAccess(c.req.raw, c.env, docId)
  unwrap(await c.env.DOC_ROOM.getByName(docId).deleteOverHttp(docId, access))
  return c.body(null, 204)
})
