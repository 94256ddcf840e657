/**
 * The SDK's HTTP calls to the edge: every failure, from the network or in
 * the edge's JSON error shape, becomes a typed `VivimError`.
 */
import { ErrorCode, isErrorCode, VivimError } from '@vivim/shared'

export type TokenSource = string | (() => string | Promise<string>)

export async function resolveToken(token: TokenSource | undefined): Promise<string | undefined> {
  return typeof token === 'function' ? await token() : token
}

export async function request(url: string, init: RequestInit = {}, token?: TokenSource): Promise<Response> {
  const headers = new Headers(init.headers)
  const credential = await resolveToken(token)
  if (credential) headers.set('Authorization', `Bearer ${credential}`)
  let res: Response
  try {
    res = await fetch(url, { ...init, headers })
  } catch (cause) {
    throw new VivimError(ErrorCode.ConnectionFailed, `cannot reach ${url}`, { cause })
  }
  if (res.ok || res.status === 304 || res.status === 404) return res
  throw await errorOf(res)
}

async function errorOf(res: Response): Promise<VivimError> {
  try {
    const body = (await res.json()) as { error?: { code?: unknown; message?: unknown } }
    const code = body.error?.code
    if (isErrorCode(code)) return new VivimError(code, String(body.error?.message ?? code))
  } catch {}
  return new VivimError(ErrorCode.Internal, `the edge answered ${res.status}`)
}

/** `ws://…` or `wss://…` for an `http(s)://…` edge URL, and the other way round. */
export function edgeUrls(edge: string): { http: string; ws: string } {
  const base = edge.replace(/\/$/, '')
  return { http: base.replace(/^ws/, 'http'), ws: base.replace(/^http/, 'ws') }
}
