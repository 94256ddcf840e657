/**
 * Which URLs a webhook may call. In production: `https` only, no user name or
 * password, and no host that names this edge, a loopback, private,
 * link-local, shared or otherwise non-public address (IPv4 and IPv6
 * literals, IPv4-mapped IPv6 included), or a name that only resolves
 * inside a network (`localhost`, `*.local`, `*.internal`, one-label names).
 * With `VIVIM_ENV = "development"` plain `http` and loopback are allowed, so
 * a receiver on 127.0.0.1 can be tested.
 *
 * A public name that resolves to a private address cannot be checked from a
 * Worker (it has no DNS API); Cloudflare's `fetch` does not reach private
 * networks from a deployed Worker, which covers that case there.
 *
 * @example
 * ```ts
 * checkTarget('https://hooks.example/in', env, 'edge.example') // the parsed URL
 * checkTarget('https://10.0.0.5/in', env, 'edge.example')      // throws bad_request
 * ```
 */
import { ErrorCode, VivimError } from '@vivim/shared'
import { WEBHOOK_LIMITS } from './subscription.ts'

const LOCAL_NAMES = /(^|\.)(localhost|local|internal|intranet|lan|home\.arpa|localdomain)$/

/** Throws `bad_request` unless `text` is a URL this edge may deliver to; `edgeHost` is the edge's own host. */
export function checkTarget(text: string, env: Pick<Env, 'VIVIM_ENV'>, edgeHost: string): URL {
  if (text.length > WEBHOOK_LIMITS.urlLength) refuse(`a URL of at most ${WEBHOOK_LIMITS.urlLength} characters`)
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return refuse('not an absolute URL')
  }
  const development = env.VIVIM_ENV === 'development'
  if (url.protocol !== 'https:' && !(development && url.protocol === 'http:')) refuse('the URL must be https')
  if (url.username !== '' || url.password !== '') refuse('the URL may not hold a user name or password')
  if (url.hash !== '') refuse('the URL may not have a fragment')
  if (url.host.toLowerCase() === edgeHost.toLowerCase()) refuse('a webhook may not call this edge')
  if (!development && !isPublicHost(url.hostname)) refuse(`${url.hostname} is not a public address`)
  return url
}

/** Whether a URL's hostname (as `URL` gives it: IPv6 in brackets) may be public. */
export function isPublicHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '')
  if (host.startsWith('[')) return isPublicIpv6(host.slice(1, -1))
  const v4 = ipv4(host)
  if (v4 !== null) return isPublicIpv4(v4)
  if (!host.includes('.')) return false
  return !LOCAL_NAMES.test(host)
}

/** The four octets of a dotted IPv4 literal (as `URL` normalizes it), or null. */
function ipv4(host: string): number[] | null {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host)
  if (!match) return null
  const octets = match.slice(1).map(Number)
  return octets.every((o) => o <= 255) ? octets : null
}

function isPublicIpv4([a, b, c]: number[]): boolean {
  if (a === undefined || b === undefined || c === undefined) return false
  if (a === 0 || a === 10 || a === 127 || a >= 224) return false // this network, private, loopback, multicast, reserved
  if (a === 100 && b >= 64 && b <= 127) return false // shared address space (carrier NAT)
  if (a === 169 && b === 254) return false // link-local (cloud metadata services live here)
  if (a === 172 && b >= 16 && b <= 31) return false
  if (a === 192 && b === 168) return false
  if (a === 192 && b === 0 && (c === 0 || c === 2)) return false // IETF protocol assignments, TEST-NET-1
  if (a === 198 && (b === 18 || b === 19)) return false // benchmarking
  if ((a === 198 && b === 51 && c === 100) || (a === 203 && b === 0 && c === 113)) return false // TEST-NETs
  return true
}

function isPublicIpv6(address: string): boolean {
  const words = expandIpv6(address)
  if (words === null) return false
  const [w0 = 0, , , , , w5 = 0, w6 = 0, w7 = 0] = words
  if (words.slice(0, 7).every((w) => w === 0)) return false // :: and ::1
  // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible: judged as the IPv4 address.
  if (words.slice(0, 5).every((w) => w === 0) && (w5 === 0xffff || w5 === 0)) {
    return isPublicIpv4([w6 >> 8, w6 & 0xff, w7 >> 8, w7 & 0xff])
  }
  if ((w0 & 0xfe00) === 0xfc00) return false // unique local
  if ((w0 & 0xffc0) === 0xfe80) return false // link-local
  if ((w0 & 0xff00) === 0xff00) return false // multicast
  if (w0 === 0x2001 && words[1] === 0x0db8) return false // documentation
  if (w0 === 0x64 && words[1] === 0xff9b) return false // NAT64: an IPv4 address in disguise
  return true
}

/** The eight 16-bit words of an IPv6 address (`URL` has already normalized it), or null. */
function expandIpv6(address: string): number[] | null {
  let text = address
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)
  if (v4) {
    const octets = ipv4(v4[1] as string)
    if (octets === null) return null
    const [a = 0, b = 0, c = 0, d = 0] = octets
    text = `${text.slice(0, -(v4[1] as string).length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const halves = text.split('::')
  if (halves.length > 2) return null
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((w) => Number.parseInt(w, 16)))
  const head = parse(halves[0] ?? '')
  const tail = halves.length === 2 ? parse(halves[1] ?? '') : []
  const fill = 8 - head.length - tail.length
  if (fill < 0 || (halves.length === 1 && fill !== 0)) return null
  const words = [...head, ...Array<number>(fill).fill(0), ...tail]
  return words.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffff) ? words : null
}

function refuse(message: string): never {
  throw new VivimError(ErrorCode.BadRequest, `webhook URL refused: ${message}`)
}
