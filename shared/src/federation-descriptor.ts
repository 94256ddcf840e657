/**
 * The instance descriptor, served at `GET /.well-known/vivim`: who an
 * instance is (its DID, whose key signs everything it sends), where it is
 * reached, what it federates and which domains it lists as peers. JSON with a
 * detached signature; the signature is Ed25519 by `did` over the canonical
 * CBOR of `{ v: "vivim-instance/1", ...descriptor }`:
 *
 *   { "descriptor": { "did", "domain", "endpoint", "version", "capabilities",
 *                     "peers", "issuedAt", "expiresAt" },
 *     "signature": "<base64url>" }
 *
 * A domain is `host` or `host:port`, lowercase. The endpoint is the origin
 * the instance answers on: `https://<domain>`, or `http://<domain>` for
 * loopback (and development) only. A descriptor is accepted for a domain
 * only if it names that domain, so one instance cannot pass off another's.
 *
 * @example
 * ```ts
 * const signed = createDescriptor(edge, { domain: 'a.example', version: '0.1.0', capabilities: ['topics'], peers: [] })
 * (await validateDescriptor(signed, { domain: 'a.example' })).did === edge.did // true
 * ```
 */
import { base64urlnopad } from '@scure/base'
import { encodeCanonical } from './canonical.ts'
import { ErrorCode, VivimError } from './errors.ts'
import { type Did, type Identity, isDid, sign, verifyAsync } from './identity.ts'
import { Limits } from './limits.ts'

/** The `v` of the map an instance descriptor's signature covers. */
export const INSTANCE_FORMAT = 'vivim-instance/1'

/** The features an instance may federate; a descriptor lists the ones it does. */
export const FederationCapability = {
  Topics: 'topics',
  Docs: 'docs',
  Records: 'records',
  Revocations: 'revocations',
} as const
export type FederationCapability = (typeof FederationCapability)[keyof typeof FederationCapability]

/** What an instance says about itself at `/.well-known/vivim` (`docs/federation.md`). */
export interface InstanceDescriptor {
  readonly did: Did
  readonly domain: string
  readonly endpoint: string
  readonly version: string
  readonly capabilities: readonly string[]
  readonly peers: readonly string[]
  /** Milliseconds since the epoch. */
  readonly issuedAt: number
  readonly expiresAt: number
}

/** A descriptor and its detached signature, as served. */
export interface SignedDescriptor {
  readonly descriptor: InstanceDescriptor
  readonly signature: string
}

/** What `createDescriptor` needs besides the instance's identity. */
export interface DescriptorInit {
  readonly domain: string
  readonly version: string
  readonly capabilities: readonly string[]
  readonly peers: readonly string[]
  /** Whether a non-loopback domain may be reached over plain HTTP (development only). */
  readonly allowHttp?: boolean
  readonly now?: number
  readonly ttlMs?: number
}

const DOMAIN = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*(?::\d{1,5})?$/

/** A domain as descriptors and discovery use it: lowercase `host[:port]`; throws if it is not one. */
export function parseDomain(domain: string): string {
  const lower = domain.trim().toLowerCase()
  if (lower.length > 253 || !DOMAIN.test(lower)) {
    throw new VivimError(ErrorCode.BadRequest, `not a domain: ${JSON.stringify(domain.slice(0, 64))}`)
  }
  return lower
}

/** Whether a domain is loopback (`localhost`, `127.0.0.0/8`), which may be reached over plain HTTP. */
export function isLoopbackDomain(domain: string): boolean {
  const host = domain.replace(/:\d+$/, '')
  return host === 'localhost' || host === '127.0.0.1' || /^127\.\d+\.\d+\.\d+$/.test(host)
}

/** The origin a domain answers on: plain HTTP only for loopback or when development allows it. */
export function endpointOf(domain: string, allowHttp = false): string {
  return `${allowHttp || isLoopbackDomain(domain) ? 'http' : 'https'}://${parseDomain(domain)}`
}

const signingBytes = (d: InstanceDescriptor) =>
  encodeCanonical({
    v: INSTANCE_FORMAT,
    did: d.did,
    domain: d.domain,
    endpoint: d.endpoint,
    version: d.version,
    capabilities: [...d.capabilities],
    peers: [...d.peers],
    issuedAt: d.issuedAt,
    expiresAt: d.expiresAt,
  })

/** Signs a descriptor for `instance`, valid for `init.ttlMs` (at most `Limits.maxDescriptorTtlMs`) from its issue time. */
export function createDescriptor(instance: Identity, init: DescriptorInit): SignedDescriptor {
  const issuedAt = init.now ?? Date.now()
  const domain = parseDomain(init.domain)
  const descriptor: InstanceDescriptor = {
    did: instance.did,
    domain,
    endpoint: endpointOf(domain, init.allowHttp),
    version: init.version,
    capabilities: [...init.capabilities],
    peers: init.peers.map(parseDomain).slice(0, Limits.maxFederationPeers),
    issuedAt,
    expiresAt: issuedAt + Math.min(init.ttlMs ?? Limits.maxDescriptorTtlMs, Limits.maxDescriptorTtlMs),
  }
  return { descriptor, signature: base64urlnopad.encode(sign(instance, signingBytes(descriptor))) }
}

const invalid = (message: string) => new VivimError(ErrorCode.InvalidDescriptor, message)
const isStrings = (v: unknown, max: number): v is string[] =>
  Array.isArray(v) && v.length <= max && v.every((s) => typeof s === 'string' && s.length <= 256)

/**
 * Checks the JSON a domain served: its shape, that it names that domain and
 * an endpoint on it, that it is current, and that its DID signed it.
 */
export async function validateDescriptor(
  value: unknown,
  expect: { domain: string; now?: number },
): Promise<InstanceDescriptor> {
  const { descriptor: d, signature } = (value ?? {}) as Record<string, unknown>
  const r = (d ?? {}) as Record<string, unknown>
  const shaped =
    typeof signature === 'string' &&
    isDid(r.did) &&
    typeof r.domain === 'string' &&
    typeof r.endpoint === 'string' &&
    typeof r.version === 'string' &&
    r.version.length <= 64 &&
    isStrings(r.capabilities, 16) &&
    isStrings(r.peers, Limits.maxFederationPeers) &&
    Number.isSafeInteger(r.issuedAt) &&
    Number.isSafeInteger(r.expiresAt)
  if (!shaped) throw invalid('not an instance descriptor')
  const descriptor = r as unknown as InstanceDescriptor
  const domain = parseDomain(expect.domain)
  if (descriptor.domain !== domain) throw invalid(`the descriptor names ${descriptor.domain}, not ${domain}`)
  if (descriptor.endpoint !== endpointOf(domain) && descriptor.endpoint !== endpointOf(domain, true)) {
    throw invalid('the descriptor’s endpoint is not on its domain')
  }
  const now = expect.now ?? Date.now()
  if (descriptor.issuedAt > now + Limits.maxClockSkewMs) throw invalid('the descriptor is issued in the future')
  if (descriptor.expiresAt <= now || descriptor.expiresAt - descriptor.issuedAt > Limits.maxDescriptorTtlMs) {
    throw invalid('the descriptor is expired or lives too long')
  }
  let sig: Uint8Array
  try {
    sig = base64urlnopad.decode(signature)
  } catch {
    throw invalid('the descriptor’s signature is not base64url')
  }
  if (!(await verifyAsync(descriptor.did, signingBytes(descriptor), sig)))
    throw invalid('the descriptor’s signature does not verify')
  return descriptor
}
