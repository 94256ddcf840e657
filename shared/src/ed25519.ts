/**
 * Ed25519 verification with RFC 8032's strict rules on every path. The
 * platform's WebCrypto (`crypto.subtle`, `{ name: 'Ed25519' }`: workerd,
 * Node 22, current browsers) verifies and signs where it has Ed25519;
 * `@noble/curves` does where it does not. Verifiers disagree on edge cases
 * (Chalkias, Garillot and Nikolaenko, "Taming the many EdDSAs"), so before
 * any verifier runs, this module refuses what the strict rules refuse:
 *
 * 1. a signature of other than 64 bytes or a key of other than 32;
 * 2. S ≥ L (the group order): S must be reduced;
 * 3. a non-canonical encoding of A (the key) or R (y ≥ p, or x = 0 with the
 *    sign bit set);
 * 4. a small-order A or R (one of the eight points of order dividing 8), and
 *    an A with a torsion component (mixed order): A must lie in the
 *    prime-order subgroup.
 *
 * What is left is checked with the cofactorless equation [S]B = R + [k]A:
 * the native verifiers of Node and workerd check it; the noble path checks
 * noble's cofactored equation and that R has no torsion component, which
 * for an A in the prime-order subgroup is the same verdict. The vectors of
 * `shared/fixtures/ed25519-strict.json` hold every path to the same answers.
 *
 * Imported keys, and the verdict of the checks on each key, are cached per
 * isolate (bounded, least recently used first out).
 */
import { ED25519_TORSION_SUBGROUP, ed25519 } from '@noble/curves/ed25519.js'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import { BoundedCache } from './lru.ts'

/** Which implementation checks signatures: the platform's WebCrypto, or `@noble/curves`. */
export type Ed25519Backend = 'webcrypto' | 'noble'

/** How many public keys (imported, and checked against the strict rules) an isolate keeps. */
export const ED25519_KEY_CACHE_SIZE = 4096

/** The subset of `SubtleCrypto` used here (the shared package is typed without the DOM). */
interface Subtle {
  importKey(
    format: 'raw' | 'pkcs8',
    keyData: Uint8Array,
    algorithm: { name: string },
    extractable: boolean,
    usages: string[],
  ): Promise<unknown>
  verify(algorithm: { name: string }, key: unknown, signature: Uint8Array, data: Uint8Array): Promise<boolean>
  sign(algorithm: { name: string }, key: unknown, data: Uint8Array): Promise<ArrayBuffer>
}

const ED25519 = { name: 'Ed25519' }
const Point = ed25519.Point
const P = Point.Fp.ORDER
const L = Point.Fn.ORDER
/** PKCS #8 wrapping of a 32-byte Ed25519 seed (RFC 8410): the DER prefix before the seed. */
const PKCS8_PREFIX = hexToBytes('302e020100300506032b657004220420')
/** Small-order points as R: the eight canonical encodings, and the sign-flipped ones (non-canonical for x = 0). */
const SMALL_ORDER = new Set(
  ED25519_TORSION_SUBGROUP.flatMap((hex) => {
    const flipped = hexToBytes(hex)
    flipped[31] = (flipped[31] as number) ^ 0x80
    return [hex, bytesToHex(flipped)]
  }),
)

function subtle(): Subtle | undefined {
  return (globalThis as { crypto?: { subtle?: Subtle } }).crypto?.subtle
}

/** A little-endian 32-byte integer, with bit 255 cleared when `dropSign`. */
function littleEndian(bytes: Uint8Array, dropSign: boolean): bigint {
  let n = 0n
  for (let i = 31; i >= 0; i--) {
    const b = i === 31 && dropSign ? (bytes[i] as number) & 0x7f : (bytes[i] as number)
    n = (n << 8n) | BigInt(b)
  }
  return n
}

interface KeyEntry {
  /** Whether the key passes rules 3 and 4. */
  readonly allowed: boolean
  native?: Promise<unknown>
}

const keys = new BoundedCache<string, KeyEntry>(ED25519_KEY_CACHE_SIZE)

function keyEntry(publicKey: Uint8Array): KeyEntry {
  const id = bytesToHex(publicKey)
  let entry = keys.get(id)
  if (!entry) {
    let allowed = false
    try {
      // zip215 = false: y < p, and no sign bit on x = 0.
      const a = Point.fromBytes(publicKey, false)
      allowed = !a.isSmallOrder() && a.isTorsionFree()
    } catch {
      allowed = false
    }
    entry = { allowed }
    keys.set(id, entry)
  }
  return entry
}

/** Whether the key and signature pass the strict rules (1-4) that come before any verifier. */
export function passesStrictRules(publicKey: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false
  if (littleEndian(signature.subarray(32), false) >= L) return false
  const r = signature.subarray(0, 32)
  if (littleEndian(r, true) >= P || SMALL_ORDER.has(bytesToHex(r))) return false
  return keyEntry(publicKey).allowed
}

function nobleVerify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    return (
      ed25519.verify(signature, message, publicKey, { zip215: false }) &&
      Point.fromBytes(signature.subarray(0, 32), false).isTorsionFree()
    )
  } catch {
    return false
  }
}

/** Synchronous strict verification with `@noble/curves`; never throws. */
export function verifyEd25519(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  return passesStrictRules(publicKey, signature) && nobleVerify(publicKey, message, signature)
}

let detected: Promise<Ed25519Backend> | undefined

/** The backend `verifyEd25519Async` uses here: `webcrypto` where the platform imports Ed25519 keys, else `noble`. */
export function ed25519Backend(): Promise<Ed25519Backend> {
  detected ??= (async () => {
    const s = subtle()
    if (!s) return 'noble'
    try {
      await s.importKey('raw', Point.BASE.toBytes(), ED25519, false, ['verify'])
      return 'webcrypto'
    } catch {
      return 'noble'
    }
  })()
  return detected
}

/**
 * Strict verification, natively where the platform can; never throws on bad
 * input. `backend` forces one (tests); `webcrypto` where there is none throws.
 */
export async function verifyEd25519Async(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
  backend?: Ed25519Backend,
): Promise<boolean> {
  if (!passesStrictRules(publicKey, signature)) return false
  const use = backend ?? (await ed25519Backend())
  if (use === 'noble') return nobleVerify(publicKey, message, signature)
  const s = subtle()
  if (!s || (await ed25519Backend()) !== 'webcrypto') throw new Error('this platform’s WebCrypto has no Ed25519')
  const entry = keyEntry(publicKey)
  entry.native ??= s.importKey('raw', publicKey.slice(), ED25519, false, ['verify'])
  try {
    return await s.verify(ED25519, await entry.native, signature, message)
  } catch {
    return false
  }
}

const signingKeys = new WeakMap<Uint8Array, Promise<unknown>>()

/**
 * Signs with a 32-byte seed, natively where the platform can (the imported
 * key is kept for as long as the seed's array lives). Ed25519 is
 * deterministic, so both backends give the same bytes.
 */
export async function signEd25519Async(secretKey: Uint8Array, message: Uint8Array): Promise<Uint8Array> {
  const s = subtle()
  if (s && secretKey.length === 32 && (await ed25519Backend()) === 'webcrypto') {
    let key = signingKeys.get(secretKey)
    if (!key) {
      const pkcs8 = new Uint8Array(PKCS8_PREFIX.length + 32)
      pkcs8.set(PKCS8_PREFIX)
      pkcs8.set(secretKey, PKCS8_PREFIX.length)
      key = s.importKey('pkcs8', pkcs8, ED25519, false, ['sign'])
      signingKeys.set(secretKey, key)
    }
    return new Uint8Array(await s.sign(ED25519, await key, message))
  }
  return ed25519.sign(message, secretKey)
}
