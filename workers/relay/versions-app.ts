/**
 * Version history over HTTP (`docs/protocol.md`, Version history), under the
 * document's capabilities: `read` lists versions and fetches one, `write`
 * names the document as it is now, and restoring (a change that may undo
 * anyone's edits) takes the owner or an `admin` grant.
 *
 *   GET  /v1/docs/:docId/versions                  → { versions: [{ id, at, reason, name, authors, bytes }] }
 *   POST /v1/docs/:docId/versions   { name }       → 201 { version }
 *   GET  /v1/docs/:docId/versions/:id              → the version's state, a Yjs update (application/octet-stream)
 *   POST /v1/docs/:docId/versions/:id/restore      → { restored, before }: `before` the version of what it replaced
 *
 * The rooms hold the versions (`doc-versions.ts`); this file only checks
 * credentials and shapes answers. None of these routes creates a document:
 * one nobody owns is `404 not_found`, as over HTTP (`doc-http.ts`).
 */
import { ErrorCode, parseDocId, unwrap, VivimError } from '@vivim/shared'
import { Hono } from 'hono'
import type { AppEnv } from '../http/types.ts'
import { docAccess } from './doc-http.ts'
import { MAX_VERSION_NAME_LENGTH } from './doc-versions.ts'

export const versions = new Hono<AppEnv>()

function versionId(text: string): number {
  if (!/^\d{1,15}$/.test(text)) throw new VivimError(ErrorCode.BadRequest, 'a version id is a positive integer')
  return Number(text)
}

versions.get('/v1/docs/:docId/versions', async (c) => {
  const { docId } = parseDocId(c.req.param('docId'))
  const access = await docAccess(c.req.raw, c.env, docId)
  if (!access.canRead) throw new VivimError(ErrorCode.Forbidden, 'this credential may not read the document')
  return c.json({ versions: unwrap(await c.env.DOC_ROOM.getByName(docId).listVersions(docId)) })
})

versions.post('/v1/docs/:docId/versions', async (c) => {
  const { docId } = parseDocId(c.req.param('docId'))
  const access = await docAccess(c.req.raw, c.env, docId)
  if (!access.canWrite) throw new VivimError(ErrorCode.Forbidden, 'naming a version needs write')
  const body = (await c.req.json().catch(() => null)) as { name?: unknown } | null
  const name = body?.name
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_VERSION_NAME_LENGTH) {
    throw new VivimError(ErrorCode.BadRequest, `a version's name is 1-${MAX_VERSION_NAME_LENGTH} characters`)
  }
  const version = unwrap(await c.env.DOC_ROOM.getByName(docId).saveVersion(docId, name))
  return c.json({ version }, 201)
})

versions.get('/v1/docs/:docId/versions/:id', async (c) => {
  const { docId } = parseDocId(c.req.param('docId'))
  const id = versionId(c.req.param('id'))
  const access = await docAccess(c.req.raw, c.env, docId)
  if (!access.canRead) throw new VivimError(ErrorCode.Forbidden, 'this credential may not read the document')
  const state = unwrap(await c.env.DOC_ROOM.getByName(docId).versionState(docId, id))
  return new Response(state, { headers: { 'content-type': 'application/octet-stream' } })
})

versions.post('/v1/docs/:docId/versions/:id/restore', async (c) => {
  const { docId } = parseDocId(c.req.param('docId'))
  const id = versionId(c.req.param('id'))
  const access = await docAccess(c.req.raw, c.env, docId)
  if (!access.canAdmin)
    throw new VivimError(ErrorCode.Forbidden, 'restoring a version takes the owner or an admin grant')
  const before = unwrap(await c.env.DOC_ROOM.getByName(docId).restoreVersion(docId, id, access))
  return c.json({ restored: id, before })
})
