/**
 * The edge's access routes: `GET /v1/edge` tells clients the DID to address
 * capability invocations to; `POST /v1/revocations` revokes a token (and
 * every token delegated from it) and closes the connections that used it.
 */
import { decodeCanonical, ErrorCode, VivimError } from '@vivim/shared'
import { Hono } from 'hono'
import { edgeIdentity } from './edge-identity.ts'
import { revoke } from './revocation-registry.ts'

// `http/types.ts`'s AppEnv spelt out: auth sits below http (whose credential hook calls auth), so never imports it.
export const access = new Hono<{ Bindings: Env }>()

access.get('/v1/edge', (c) => c.json({ did: edgeIdentity(c.env).did }))

access.post('/v1/revocations', async (c) => {
  const body = decodeCanonical(new Uint8Array(await c.req.arrayBuffer())) as Record<string, unknown>
  const { revocation, token } = body ?? {}
  if (!(revocation instanceof Uint8Array) || !(token instanceof Uint8Array)) {
    throw new VivimError(ErrorCode.BadRequest, 'a revocation request is CBOR { revocation: bytes, token: bytes }')
  }
  return c.json({ revoked: await revoke(c.env, revocation, token) })
})
