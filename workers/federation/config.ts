/**
 * This instance's federation settings, from `wrangler.toml` `[vars]`:
 *
 *   FEDERATION_DOMAIN       this instance's public domain (`host[:port]`); empty turns federation off
 *   FEDERATION_PEERS        comma-separated domains to federate with (listed in the descriptor)
 *   FEDERATION_ALLOW        comma-separated domains or DIDs; when set, only these may send requests
 *   FEDERATION_BLOCK        comma-separated domains or DIDs that are always refused
 *   FEDERATION_ALLOW_HTTP   "true" lets non-loopback domains be reached over plain HTTP (development)
 *   FEDERATION_RETRY_BASE_MS, FEDERATION_RETRY_MAX_MS   the outbox's back-off
 *
 * @example
 * ```ts
 * const config = federationConfig(env) // null when this instance does not federate
 * if (config && admits(config, 'b.example', did)) { ... }       // may it be heard at all
 * if (config && federatesWith(config, 'b.example', did)) { ... } // may it send transactions
 * ```
 */
import { FederationCapability, parseDomain } from '@vivim/shared'

export interface FederationConfig {
  readonly domain: string
  readonly peers: readonly string[]
  readonly allow: ReadonlySet<string>
  readonly block: ReadonlySet<string>
  readonly allowHttp: boolean
  readonly retryBaseMs: number
  readonly retryMaxMs: number
  readonly capabilities: readonly string[]
}

/** What this instance federates. */
export const CAPABILITIES: readonly string[] = Object.values(FederationCapability)

const list = (value: string | undefined) =>
  (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)

const positive = (value: string | undefined, fallback: number) => {
  const n = Number(value)
  return Number.isSafeInteger(n) && n > 0 ? n : fallback
}

// Read on every topic message, flush and federation request: parse each env's settings once.
const parsed = new WeakMap<Env, FederationConfig>()

/** The settings, or null when this instance does not federate (no `FEDERATION_DOMAIN`). */
export function federationConfig(env: Env): FederationConfig | null {
  if (!env.FEDERATION_DOMAIN) return null
  let config = parsed.get(env)
  if (!config) {
    config = parseConfig(env, env.FEDERATION_DOMAIN)
    parsed.set(env, config)
  }
  return config
}

function parseConfig(env: Env, domainSetting: string): FederationConfig {
  const domain = parseDomain(domainSetting)
  const retryBaseMs = positive(env.FEDERATION_RETRY_BASE_MS, 1000)
  return {
    domain,
    peers: list(env.FEDERATION_PEERS)
      .map(parseDomain)
      .filter((peer) => peer !== domain),
    allow: new Set(list(env.FEDERATION_ALLOW).map(lowerUnlessDid)),
    block: new Set(list(env.FEDERATION_BLOCK).map(lowerUnlessDid)),
    allowHttp: env.FEDERATION_ALLOW_HTTP === 'true',
    retryBaseMs,
    retryMaxMs: Math.max(retryBaseMs, positive(env.FEDERATION_RETRY_MAX_MS, 5 * 60 * 1000)),
    capabilities: CAPABILITIES,
  }
}

function lowerUnlessDid(entry: string): string {
  return entry.startsWith('did:') ? entry : entry.toLowerCase()
}

/** Whether an instance (by domain and DID) may federate with this one: not blocked, and allowed if a list is set. */
export function admits(config: FederationConfig, domain: string, did: string): boolean {
  if (config.block.has(domain) || config.block.has(did)) return false
  return config.allow.size === 0 || config.allow.has(domain) || config.allow.has(did)
}

/**
 * Whether an admitted instance may send transactions here (and be linked to
 * a topic or document): it is a configured peer, or on the allow list.
 * Federated writes act with full access on the rooms, so they come only from
 * instances this one's operator chose; discovery, descriptors and record
 * lookups stay open to any admitted instance.
 */
export function federatesWith(config: FederationConfig, domain: string, did: string): boolean {
  if (!admits(config, domain, did)) return false
  return config.peers.includes(domain) || config.allow.has(domain) || config.allow.has(did)
}
