/**
 * The edge's own identity: the audience every capability invocation is
 * addressed to (and, later, the instance's federation identity). Its seed is
 * the Worker secret `EDGE_SECRET_KEY` (base64url, 32 bytes; set it with
 * `wrangler secret put EDGE_SECRET_KEY`). Development mode without the
 * secret uses a fixed, public development identity, so `npm start` needs no
 * setup; anything else without it refuses capability tokens.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { utf8ToBytes } from '@noble/hashes/utils.js'
import { base64urlnopad } from '@scure/base'
import { ErrorCode, type Identity, identityFromSecretKey, VivimError } from '@vivim/shared'

const DEVELOPMENT_SEED = sha256(utf8ToBytes('vivim development edge: never use in production'))
const cache = new Map<string, Identity>()

export function edgeIdentity(env: Pick<Env, 'VIVIM_ENV' | 'EDGE_SECRET_KEY'>): Identity {
  const secret = env.EDGE_SECRET_KEY
  const key = secret ?? (env.VIVIM_ENV === 'development' ? 'development' : '')
  let identity = cache.get(key)
  if (identity) return identity
  if (secret) {
    try {
      identity = identityFromSecretKey(base64urlnopad.decode(secret))
    } catch (cause) {
      throw new VivimError(ErrorCode.Internal, 'EDGE_SECRET_KEY is not a base64url 32-byte seed', { cause })
    }
  } else if (env.VIVIM_ENV === 'development') {
    identity = identityFromSecretKey(DEVELOPMENT_SEED)
  } else {
    throw new VivimError(ErrorCode.Internal, 'this edge has no EDGE_SECRET_KEY, so it cannot check capability tokens')
  }
  cache.set(key, identity)
  return identity
}
