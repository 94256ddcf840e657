/**
 * The credential hook of every edge entry point. A request's credential is
 * the `token` query parameter (browsers cannot set headers on a WebSocket)
 * or an `Authorization: Bearer` header.
 *
 * Until capability tokens land, only development mode (`VIVIM_ENV =
 * "development"`, which `npm start` sets) admits anyone: read-write, or
 * read-only with the token `dev:read`. Any other mode refuses every
 * credential, so a deployed edge is closed rather than open by default.
 */
import { ErrorCode, VivimError } from '@vivim/shared'

export interface Access {
  /** The DID the credential speaks for, when it names one. */
  readonly did: string | null
  readonly canWrite: boolean
}

export const DEV_READ_ONLY_TOKEN = 'dev:read'

export function credentialOf(request: Request): string | null {
  const fromQuery = new URL(request.url).searchParams.get('token')
  if (fromQuery) return fromQuery
  const header = request.headers.get('Authorization')
  const match = header?.match(/^Bearer\s+(\S+)$/i)
  return match?.[1] ?? null
}

/**
 * Decides what the request's credential allows on `resource` (for example
 * `doc:<id>`); throws `unauthorized` when it allows nothing.
 */
export async function authorize(request: Request, env: Pick<Env, 'VIVIM_ENV'>, _resource: string): Promise<Access> {
  const token = credentialOf(request)
  if (env.VIVIM_ENV === 'development') {
    return { did: null, canWrite: token !== DEV_READ_ONLY_TOKEN }
  }
  throw new VivimError(ErrorCode.Unauthorized, 'this edge accepts no credentials yet outside development mode')
}
