/**
 * Provider announcements: "this peer holds the content of this record key,
 * until then". A peer is named by a did:key DID or by a libp2p peer id (the
 * base58btc multihash form, `12D3KooW…` or `Qm…`), optionally with the
 * multiaddrs it listens on. These checks are here, not in the edge, so the
 * edge and the bridge refuse the same announcements; they are strict enough
 * that an index never stores something no libp2p node could dial.
 *
 * @example
 * ```ts
 * import { parseProviderAnnouncement } from '@vivim/shared'
 * parseProviderAnnouncement({ peer: '12D3KooW…', multiaddrs: ['/ip4/203.0.113.7/tcp/4001'], ttl: 3600 })
 * // { peer: '12D3KooW…', multiaddrs: [...], ttlMs: 3_600_000 }
 * ```
 */
import { base58 } from '@scure/base'
import { ErrorCode, VivimError } from './errors.ts'
import { isDid } from './identity.ts'
import { Limits } from './limits.ts'

/** That a peer holds a key's content, reachable at its multiaddrs, until it expires. */
export interface ProviderAnnouncement {
  readonly peer: string
  readonly multiaddrs: readonly string[]
  /** How long the announcement lives, in ms (the wire field `ttl` is in seconds). */
  readonly ttlMs: number
}

/** A provider as the index lists it. */
export interface ProviderEntry {
  readonly peer: string
  readonly multiaddrs: readonly string[]
  /** Milliseconds since the Unix epoch. */
  readonly expiresAt: number
}

const IDENTITY_MULTIHASH = 0x00
const SHA2_256_MULTIHASH = 0x12
/** libp2p inlines public keys of at most 42 bytes in an identity multihash. */
const MAX_INLINE_KEY_BYTES = 42

/** Whether `value` is a libp2p peer id in its base58btc multihash string form. */
export function isPeerId(value: unknown): value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > Limits.maxProviderBytes) return false
  let bytes: Uint8Array
  try {
    bytes = base58.decode(value)
  } catch {
    return false
  }
  const length = bytes[1] ?? 0
  if (bytes.length < 3 || bytes.length !== 2 + length) return false
  if (bytes[0] === SHA2_256_MULTIHASH) return length === 32
  return bytes[0] === IDENTITY_MULTIHASH && length <= MAX_INLINE_KEY_BYTES
}

/** A provider is named by a did:key DID or a libp2p peer id. */
export function isProviderPeer(value: unknown): value is string {
  return typeof value === 'string' && value.length <= Limits.maxProviderBytes && (isDid(value) || isPeerId(value))
}

type Component = 'none' | 'ip4' | 'ip6' | 'host' | 'port' | 'peer' | 'multibase'

const PROTOCOLS: Readonly<Record<string, Component>> = {
  ip4: 'ip4',
  ip6: 'ip6',
  dns: 'host',
  dns4: 'host',
  dns6: 'host',
  dnsaddr: 'host',
  sni: 'host',
  tcp: 'port',
  udp: 'port',
  quic: 'none',
  'quic-v1': 'none',
  tls: 'none',
  noise: 'none',
  ws: 'none',
  wss: 'none',
  http: 'none',
  https: 'none',
  webtransport: 'none',
  webrtc: 'none',
  'webrtc-direct': 'none',
  'p2p-circuit': 'none',
  certhash: 'multibase',
  p2p: 'peer',
}

const IP4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/
const HOST =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/
const PORT = /^(?:0|[1-9]\d{0,4})$/
const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/
const MULTIBASE = /^[A-Za-z0-9_-]{2,200}$/

function isIp6(text: string): boolean {
  const halves = text.split('::')
  if (halves.length > 2) return false
  const groups = halves.map((h) => (h === '' ? [] : h.split(':')))
  const last = groups.at(-1) ?? []
  const tail = last.at(-1)
  const ip4Tail = tail !== undefined && IP4.test(tail) ? 2 : 0
  if (ip4Tail > 0) last.pop()
  const count = groups.reduce((n, g) => n + g.length, 0) + ip4Tail
  if (!groups.every((g) => g.every((x) => HEX_GROUP.test(x)))) return false
  return halves.length === 2 ? count < 8 : count === 8
}

function componentOk(kind: Component, value: string): boolean {
  switch (kind) {
    case 'none':
      return true
    case 'ip4':
      return IP4.test(value)
    case 'ip6':
      return isIp6(value)
    case 'host':
      return HOST.test(value)
    case 'port':
      return PORT.test(value) && Number(value) <= 65_535
    case 'peer':
      return isPeerId(value)
    case 'multibase':
      return MULTIBASE.test(value)
  }
}

/**
 * Whether `value` is a multiaddr in string form that a libp2p node can dial:
 * `/proto[/value]…` over the protocols of the libp2p transports (ip4, ip6,
 * dns*, tcp, udp, quic-v1, ws, wss, webtransport, webrtc, p2p, …), each value
 * checked, at most `Limits.maxMultiaddrBytes` printable ASCII characters.
 */
export function isMultiaddr(value: unknown): value is string {
  if (typeof value !== 'string' || value.length > Limits.maxMultiaddrBytes || !/^\/[\x21-\x7e]+$/.test(value)) {
    return false
  }
  const parts = value.slice(1).split('/')
  for (let i = 0; i < parts.length; i++) {
    const kind = PROTOCOLS[parts[i] as string]
    if (kind === undefined) return false
    if (kind === 'none') continue
    const arg = parts[++i]
    if (arg === undefined || !componentOk(kind, arg)) return false
  }
  return true
}

const ANNOUNCEMENT_FIELDS = new Set(['peer', 'multiaddrs', 'ttl'])
const MAX_TTL_SECONDS = Limits.maxProviderTtlMs / 1000

/**
 * Reads the JSON body of a provider announcement, `{ peer, multiaddrs?, ttl? }`
 * with `ttl` in whole seconds (1 to 86,400; default the maximum), and throws
 * `invalid_provider` naming the first rule it breaks.
 */
export function parseProviderAnnouncement(json: unknown): ProviderAnnouncement {
  const body = json as Record<string, unknown>
  if (typeof json !== 'object' || json === null || Array.isArray(json)) invalid('expected a JSON object')
  const unknown = Object.keys(body).find((k) => !ANNOUNCEMENT_FIELDS.has(k))
  if (unknown !== undefined) invalid(`unknown field ${JSON.stringify(unknown.slice(0, 32))}`)
  if (!isProviderPeer(body.peer)) invalid('peer must be a did:key DID or a base58btc libp2p peer id')
  const multiaddrs = body.multiaddrs ?? []
  if (!Array.isArray(multiaddrs) || multiaddrs.length > Limits.maxProviderMultiaddrs) {
    invalid(`multiaddrs must be an array of at most ${Limits.maxProviderMultiaddrs}`)
  }
  const bad = multiaddrs.findIndex((m) => !isMultiaddr(m))
  if (bad >= 0) invalid(`multiaddrs[${bad}] is not a dialable multiaddr of at most ${Limits.maxMultiaddrBytes} bytes`)
  if (new Set(multiaddrs).size !== multiaddrs.length) invalid('multiaddrs must not repeat')
  const ttl = body.ttl ?? MAX_TTL_SECONDS
  if (!Number.isSafeInteger(ttl) || (ttl as number) < 1 || (ttl as number) > MAX_TTL_SECONDS) {
    invalid(`ttl must be a whole number of seconds from 1 to ${MAX_TTL_SECONDS}`)
  }
  return { peer: body.peer as string, multiaddrs: multiaddrs as string[], ttlMs: (ttl as number) * 1000 }
}

function invalid(message: string): never {
  throw new VivimError(ErrorCode.InvalidProvider, `provider announcement: ${message}`)
}
