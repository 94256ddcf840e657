/**
 * Discovery by domain: fetch a domain's descriptor (`/.well-known/vivim`),
 * validate it (shape, domain, expiry, signature by its DID), then follow the
 * peers it lists, breadth first, up to a limit. Results and failures are
 * cached with bounded lifetimes, in one object per domain
 * (`descriptor-cache.ts`), so a busy inbox does not fetch a descriptor per
 * request, a dead domain is not asked on every one, and no one object is
 * asked for every peer's requests. A
 * fetch that someone else's request would cause is paid from that caller's
 * budget (`callerBudget`) before it is made, so no caller can make this
 * instance fetch without bound.
 *
 * @example
 * ```ts
 * const instances = await discover(env, { domain: 'b.example', limit: 10 })
 * instances[0] // { did: 'did:key:z6Mk…', domain: 'b.example', endpoint: 'https://b.example', version, capabilities }
 * ```
 */
import {
  DISCOVER_RATE_LIMIT,
  ErrorCode,
  endpointOf,
  type InstanceDescriptor,
  Limits,
  parseDomain,
  VivimError,
  validateDescriptor,
} from '@vivim/shared'
import { type FederationConfig, federationConfig } from './config.ts'
import { descriptorCache } from './descriptor-cache.ts'
import { rateHub } from './rate-window.ts'

/** Takes one outbound fetch from a caller's budget; false when the caller has none left (nothing is taken). */
export type FetchBudget = () => Promise<boolean>

/**
 * The budget of whoever sent `request` (by the address Cloudflare sets; a
 * request without one shares a single budget): the same one
 * `/v1/federation/discover` spends, since both end in descriptor fetches.
 */
export function callerBudget(env: Env, request: Request): FetchBudget {
  const caller = request.headers.get('CF-Connecting-IP') ?? 'unknown'
  const { requests, windowMs } = DISCOVER_RATE_LIMIT
  return () => rateHub(env, caller).take(requests, windowMs)
}

function rateLimited(): VivimError {
  const { requests, windowMs } = DISCOVER_RATE_LIMIT
  return new VivimError(ErrorCode.RateLimited, `at most ${requests} discoveries per ${windowMs / 1000} s per caller`)
}

export interface DiscoveredInstance {
  readonly did: string
  readonly domain: string
  readonly endpoint: string
  readonly version: string
  readonly capabilities: readonly string[]
}

export interface DiscoverInit {
  readonly domain: string
  /** Most instances to return (the domain itself first); at most `Limits.maxFederationPeers`. */
  readonly limit?: number
}

export const WELL_KNOWN_PATH = '/.well-known/vivim'

/** Fetches and validates one domain's descriptor; throws `connection_failed` or `invalid_descriptor`. */
async function fetchDescriptor(config: FederationConfig, domain: string): Promise<InstanceDescriptor> {
  let response: Response
  try {
    response = await fetch(`${endpointOf(domain, config.allowHttp)}${WELL_KNOWN_PATH}`, {
      headers: { Accept: 'application/json' },
      redirect: 'manual',
      signal: AbortSignal.timeout(Limits.federationRequestTimeoutMs),
    })
  } catch (cause) {
    throw new VivimError(ErrorCode.ConnectionFailed, `${domain} did not answer: ${(cause as Error).message}`)
  }
  if (!response.ok) {
    await response.body?.cancel()
    throw new VivimError(ErrorCode.ConnectionFailed, `${domain} answered ${response.status} for its descriptor`)
  }
  const text = await response.text()
  if (text.length > Limits.maxDescriptorBytes) throw new VivimError(ErrorCode.InvalidDescriptor, 'descriptor too large')
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new VivimError(ErrorCode.InvalidDescriptor, `${domain} served a descriptor that is not JSON`)
  }
  return validateDescriptor(json, { domain })
}

/** How long an isolate keeps a descriptor it read from the cache object (never past the descriptor's expiry). */
const ISOLATE_DESCRIPTOR_MS = 60_000
/** Descriptors an isolate keeps at most; past it the memo starts again (a bound on memory, not a policy). */
const ISOLATE_DESCRIPTORS = 1_000
/**
 * Descriptors this isolate read lately: every signed request a peer sends
 * is checked against its descriptor, so without this each one would be a
 * call to the domain's cache object, one object per peer on the
 * per-message path. A descriptor changes rarely; a minute's staleness at
 * most is the price.
 */
const isolateDescriptors = new Map<string, { descriptor: InstanceDescriptor; until: number }>()

/**
 * A domain's validated descriptor, from this isolate's memo or the domain's
 * cache object while it is current. On a
 * miss, `budget` (when given) is charged before the fetch: a caller with no
 * budget left is refused `rate_limited` and nothing is fetched.
 */
export async function descriptorOf(env: Env, domain: string, budget?: FetchBudget): Promise<InstanceDescriptor> {
  const config = federationConfig(env)
  if (config === null) throw new VivimError(ErrorCode.NotFound, 'this instance does not federate')
  const name = parseDomain(domain)
  const now = Date.now()
  const memo = isolateDescriptors.get(name)
  if (memo && memo.until > now) return memo.descriptor
  const cache = descriptorCache(env, name)
  const cached = await cache.discovery(name)
  if (cached?.descriptor) {
    if (isolateDescriptors.size >= ISOLATE_DESCRIPTORS) isolateDescriptors.clear()
    const until = Math.min(cached.descriptor.expiresAt, now + ISOLATE_DESCRIPTOR_MS)
    isolateDescriptors.set(name, { descriptor: cached.descriptor, until })
    return cached.descriptor
  }
  if (cached) {
    throw new VivimError(cached.code ?? ErrorCode.ConnectionFailed, cached.error ?? `${name} could not be discovered`)
  }
  // Not cached as refused: the caller ran out, not the domain.
  if (budget && !(await budget())) throw rateLimited()
  try {
    const descriptor = await fetchDescriptor(config, name)
    await cache.discovered(name, descriptor)
    return descriptor
  } catch (error) {
    await cache.failed(
      name,
      error instanceof VivimError ? error.code : ErrorCode.ConnectionFailed,
      (error as Error).message,
    )
    throw error
  }
}

/**
 * The domain's instance and those its peer lists lead to, breadth first,
 * without this instance itself. The domain asked for is paid for by the
 * caller's request; each listed peer that must be fetched takes one more
 * from `budget`, and the walk stops, answering what it found, once the
 * budget is spent, so one request cannot fan out into a fetch per peer.
 */
export async function discover(env: Env, init: DiscoverInit, budget?: FetchBudget): Promise<DiscoveredInstance[]> {
  const self = federationConfig(env)?.domain
  const limit = Math.min(Math.max(init.limit ?? Limits.defaultPageSize, 1), Limits.maxFederationPeers)
  const first = parseDomain(init.domain)
  const queue = [first]
  const seen = new Set(queue)
  const found: DiscoveredInstance[] = []
  while (queue.length > 0 && found.length < limit) {
    const domain = queue.shift() as string
    // This instance, reached again through someone's peer list: nothing to learn.
    if (domain === self && domain !== first) continue
    let d: InstanceDescriptor
    try {
      d = await descriptorOf(env, domain, domain === first ? undefined : budget)
    } catch (error) {
      // The domain asked for must answer; a peer it lists may be down without failing the rest.
      if (domain === first) throw error
      if (error instanceof VivimError && error.code === ErrorCode.RateLimited) break
      continue
    }
    if (domain !== self) {
      found.push({ did: d.did, domain, endpoint: d.endpoint, version: d.version, capabilities: d.capabilities })
    }
    for (const peer of d.peers) {
      let name: string
      try {
        name = parseDomain(peer)
      } catch {
        continue
      }
      if (!seen.has(name)) {
        seen.add(name)
        queue.push(name)
      }
    }
  }
  return found
}
