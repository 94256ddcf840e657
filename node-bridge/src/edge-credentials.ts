/**
 * The bridge's credentials at the edge. The edge's operator grants the
 * bridge's DID (the same Ed25519 key as its peer id, `storage.ts`) a
 * capability, for example on `bridge` for the link; the bridge holds the
 * grant and, for each connection, issues a short-lived invocation to the
 * edge's DID (`GET /v1/edge`) with the grant as proof, as the SDK does. With
 * no grant it sends no token, which only a development edge admits.
 *
 * @example
 * ```ts
 * const credentials = new EdgeCredentials({ edgeUrl, grant: process.env.VIVIM_BRIDGE_TOKEN ?? null }, identity)
 * await credentials.socketUrl('/v1/bridge', 'bridge') // ws://…/v1/bridge?token=…
 * ```
 */
import {
  type Capability,
  decodeCapabilityText,
  ErrorCode,
  encodeCapabilityText,
  type Identity,
  issueCapability,
  VivimError,
} from '@vivim/shared'

export interface EdgeCredentialsInit {
  /** The edge's base URL, `http(s)://host[:port]`. */
  edgeUrl: string
  /** A capability granted to this bridge's DID, in its text form; `null` for a development edge. */
  grant: string | null
}

/** How long an invocation for one connection lives: the link re-invokes on every reconnect. */
const INVOCATION_TTL_MS = 60 * 60 * 1000

export class EdgeCredentials {
  private readonly base: URL
  private readonly grant: Capability | null
  private readonly identity: Identity
  private edgeDid: string | null = null

  constructor(init: EdgeCredentialsInit, identity: Identity) {
    this.base = new URL(init.edgeUrl)
    if (this.base.protocol !== 'http:' && this.base.protocol !== 'https:') {
      throw new VivimError(ErrorCode.BadRequest, `the edge URL is http(s)://…, not ${init.edgeUrl}`)
    }
    this.grant = init.grant === null ? null : decodeCapabilityText(init.grant)
    this.identity = identity
  }

  /** An HTTP URL on the edge. */
  httpUrl(path: string): URL {
    return new URL(path, this.base)
  }

  /** The WebSocket URL of `path`, with an invocation on `resource` when the bridge holds a grant. */
  async socketUrl(path: string, resource: string, query: Record<string, string> = {}): Promise<string> {
    const url = this.httpUrl(path)
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
    for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value)
    const token = await this.invocation(resource)
    if (token !== null) url.searchParams.set('token', token)
    return url.toString()
  }

  private async invocation(resource: string): Promise<string | null> {
    if (this.grant === null) return null
    const aud = await this.audience()
    const exp = Math.min(this.grant.exp, Date.now() + INVOCATION_TTL_MS)
    return encodeCapabilityText(
      issueCapability(this.identity, { aud, res: resource, can: this.grant.can, exp, prf: [this.grant] }),
    )
  }

  private async audience(): Promise<string> {
    if (this.edgeDid !== null) return this.edgeDid
    const res = await fetch(this.httpUrl('/v1/edge'), { signal: AbortSignal.timeout(5_000) })
    if (!res.ok) throw new VivimError(ErrorCode.ConnectionFailed, `GET /v1/edge answered ${res.status}`)
    const { did } = (await res.json()) as { did?: unknown }
    if (typeof did !== 'string') throw new VivimError(ErrorCode.ConnectionFailed, 'GET /v1/edge named no DID')
    this.edgeDid = did
    return did
  }
}
