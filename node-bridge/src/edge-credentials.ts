/**
 * The bridge's credentials at the edge. Capabilities are granted to the
 * bridge's DID (the same Ed25519 key as its peer id, `storage.ts`): by the
 * edge's operator on `bridge` for the link, by a topic's owner on
 * `topic:<name>` (or a `topic:<prefix>*` pattern) for its room. The bridge
 * holds the grants and, for each connection, issues a short-lived invocation
 * to the edge's DID (`GET /v1/edge`) with the grant that covers the
 * resource as proof, as the SDK does. With no grant for a resource it sends
 * no token, which only a development edge admits.
 *
 * @example
 * ```ts
 * const credentials = new EdgeCredentials({ edgeUrl, grants: [process.env.VIVIM_BRIDGE_TOKEN] }, identity)
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
  resourceCovers,
  VivimError,
} from '@vivim/shared'

/** The edge and the grants the bridge holds there. */
export interface EdgeCredentialsInit {
  /** The edge's base URL, `http(s)://host[:port]`. */
  edgeUrl: string
  /** Capabilities granted to this bridge's DID, in their text form; none for a development edge. */
  grants: readonly string[]
}

/** How long an invocation for one connection lives: the link re-invokes on every reconnect. */
const INVOCATION_TTL_MS = 60 * 60 * 1000

/** The bridge's credentials at the edge: a fresh invocation per connection, from its grants. */
export class EdgeCredentials {
  private readonly base: URL
  private readonly grants: Capability[]
  private readonly identity: Identity
  private edgeDid: string | null = null

  constructor(init: EdgeCredentialsInit, identity: Identity) {
    this.base = new URL(init.edgeUrl)
    if (this.base.protocol !== 'http:' && this.base.protocol !== 'https:') {
      throw new VivimError(ErrorCode.BadRequest, `the edge URL is http(s)://…, not ${init.edgeUrl}`)
    }
    this.grants = init.grants.map((text) => decodeCapabilityText(text))
    this.identity = identity
  }

  /** An HTTP URL on the edge. */
  httpUrl(path: string): URL {
    return new URL(path, this.base)
  }

  /** The WebSocket URL of `path`, with an invocation on `resource` when a grant covers it. */
  async socketUrl(path: string, resource: string, query: Record<string, string> = {}): Promise<string> {
    const url = this.httpUrl(path)
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
    for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value)
    const token = await this.invocation(resource)
    if (token !== null) url.searchParams.set('token', token)
    return url.toString()
  }

  private async invocation(resource: string): Promise<string | null> {
    const grant = this.grants.find((g) => g.aud === this.identity.did && resourceCovers(g.res, resource))
    if (grant === undefined) return null
    const aud = await this.audience()
    const exp = Math.min(grant.exp, Date.now() + INVOCATION_TTL_MS)
    return encodeCapabilityText(
      issueCapability(this.identity, { aud, res: resource, can: grant.can, exp, prf: [grant] }),
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
