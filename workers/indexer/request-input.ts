/**
 * Reading the parts of an indexer request that every route shares: the
 * record key in the path, the body's media type, a JSON body. Each failure
 * is a `VivimError` with the code a client can act on.
 */
import { ErrorCode, parseRecordKey, VivimError } from '@vivim/shared'
import type { Context } from 'hono'
import type { AppEnv } from '../http/types.ts'

/** Keys this isolate has parsed as valid: parsing decodes the owner's DID, which every read and write would redo. */
const KNOWN_KEYS_SIZE = 16_384
const knownKeys = new Set<string>()

export const CBOR = 'application/cbor'
export const JSON_TYPE = 'application/json'

/**
 * The record key a route's path names after its prefix, so
 * `/v1/records/vivim/profile/did:key:z…` names `/vivim/profile/did:key:z…`;
 * throws `invalid_key` when it is not a key of the namespace.
 *
 * @example
 * ```ts
 * app.get('/v1/records/:key{.+}', (c) => c.text(pathKey(c)))
 * ```
 */
export function pathKey(c: Context<AppEnv>): string {
  const key = `/${c.req.param('key') ?? ''}`
  if (knownKeys.has(key)) return key
  parseRecordKey(key)
  if (knownKeys.size >= KNOWN_KEYS_SIZE) knownKeys.clear()
  knownKeys.add(key)
  return key
}

/** The body's media type, lower case, without parameters. */
export function mediaType(c: Context<AppEnv>): string {
  return (c.req.header('Content-Type') ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
}

/** Parses `body` as UTF-8 JSON; throws `invalid_encoding` if it is not. */
export function parseJson(body: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(body))
  } catch (cause) {
    throw new VivimError(ErrorCode.InvalidEncoding, 'body is not UTF-8 JSON', { cause })
  }
}
