/**
 * The Ed25519 edge cases on which verifiers disagree (after "Taming the many
 * EdDSAs", Chalkias, Garillot and Nikolaenko, 2020), built here from
 * `@noble/curves` points and the small-order points it ships
 * (`ED25519_TORSION_SUBGROUP`), never typed in by hand. Each case records
 * `valid` (RFC 8032 with the strict rules of `shared/src/ed25519.ts`) and
 * `zip215`, noble's permissive (ZIP-215, cofactored) verdict, which shows
 * the case is one where verifiers can differ. `scripts/generate-fixtures.ts`
 * writes them to `shared/fixtures/ed25519-strict.json`.
 */
import { ED25519_TORSION_SUBGROUP, ed25519 } from '@noble/curves/ed25519.js'
import { bytesToNumberLE, numberToBytesLE } from '@noble/curves/utils.js'
import { sha512 } from '@noble/hashes/sha2.js'
import { bytesToHex, concatBytes, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js'

const Point = ed25519.Point
type EdPoint = InstanceType<typeof Point>
const L = Point.Fn.ORDER
const P = Point.Fp.ORDER
const mod = (n: bigint) => ((n % L) + L) % L
const torsion = ED25519_TORSION_SUBGROUP.map((hex) => Point.fromHex(hex))
const IDENTITY = torsion[0] as EdPoint
/** A point of order 8. */
const T8 = torsion[1] as EdPoint

/** k = SHA-512(R ‖ A ‖ M) mod L, over the exact bytes given. */
const challenge = (r: Uint8Array, a: Uint8Array, m: Uint8Array) => mod(bytesToNumberLE(sha512(concatBytes(r, a, m))))
const le = (n: bigint) => numberToBytesLE(n, 32)
/** A fixed secret scalar and nonce (not from a seed: the cases need the scalar itself). */
const a = mod(bytesToNumberLE(sha512(utf8ToBytes('vivim ed25519 vector key'))))
const r = mod(bytesToNumberLE(sha512(utf8ToBytes('vivim ed25519 vector nonce'))))
const A = Point.BASE.multiply(a)

/** The first message `vivim-<i>` whose challenge for (R, A) satisfies `want`. */
function messageWhere(rBytes: Uint8Array, aBytes: Uint8Array, want: (k: bigint) => boolean): Uint8Array {
  for (let i = 0; ; i++) {
    const m = utf8ToBytes(`vivim-${i}`)
    if (want(challenge(rBytes, aBytes, m))) return m
  }
}

/** A signature (R, S = r + k·a) by secret scalar `secret`, with R given as `rPoint` or as raw bytes. */
function signWith(rBytes: Uint8Array, rScalar: bigint, aBytes: Uint8Array, secret: bigint, m: Uint8Array) {
  return concatBytes(rBytes, le(mod(rScalar + challenge(rBytes, aBytes, m) * secret)))
}

/** The encoding of a y coordinate (little-endian) with an optional sign bit for x. */
const encodeY = (y: bigint, sign = false) => {
  const bytes = le(y)
  if (sign) bytes[31] = (bytes[31] as number) | 0x80
  return bytes
}

interface Case {
  name: string
  rule: string
  valid: boolean
  publicKey: Uint8Array
  message: Uint8Array
  signature: Uint8Array
}

export function ed25519StrictVectors() {
  const cases: Case[] = []
  const seed = hexToBytes('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60')
  const seedKey = ed25519.getPublicKey(seed)
  const hello = utf8ToBytes('hello')
  const good = ed25519.sign(hello, seed)
  cases.push({
    name: 'an ordinary signature',
    rule: 'none',
    valid: true,
    publicKey: seedKey,
    message: hello,
    signature: good,
  })

  const aBytes = A.toBytes()
  const rB = Point.BASE.multiply(r).toBytes()
  const m0 = utf8ToBytes('vivim')
  cases.push({
    name: 'a signature built from the scalars the other cases use',
    rule: 'none',
    valid: true,
    publicKey: aBytes,
    message: m0,
    signature: signWith(rB, r, aBytes, a, m0),
  })

  const s = bytesToNumberLE(good.subarray(32))
  cases.push({
    name: 'S + L in place of S (non-canonical S)',
    rule: 'S < L',
    valid: false,
    publicKey: seedKey,
    message: hello,
    signature: concatBytes(good.subarray(0, 32), le(s + L)),
  })

  // Small-order A and R, S = 0: [S]B = 0, so only R + [k]A = 0 matters.
  const id = IDENTITY.toBytes()
  cases.push({
    name: 'A and R the identity, S = 0 (holds for any message, both equations)',
    rule: 'A and R not of small order',
    valid: false,
    publicKey: id,
    message: m0,
    signature: concatBytes(id, le(0n)),
  })
  const t8 = T8.toBytes()
  const mK0 = messageWhere(id, t8, (k) => k % 8n === 0n)
  cases.push({
    name: 'A of order 8, R the identity, S = 0, k ≡ 0 mod 8 (holds cofactorless too)',
    rule: 'A not of small order',
    valid: false,
    publicKey: t8,
    message: mK0,
    signature: concatBytes(id, le(0n)),
  })
  const mK1 = messageWhere(id, t8, (k) => k % 8n !== 0n)
  cases.push({
    name: 'A of order 8, R the identity, S = 0, k ≢ 0 mod 8 (holds only cofactored)',
    rule: 'A not of small order',
    valid: false,
    publicKey: t8,
    message: mK1,
    signature: concatBytes(id, le(0n)),
  })

  // Mixed-order A = aB + T8: S = r + k·a satisfies the cofactored equation; cofactorless only when 8 | k.
  const mixed = A.add(T8).toBytes()
  const mixK0 = messageWhere(rB, mixed, (k) => k % 8n === 0n)
  cases.push({
    name: 'mixed-order A (aB + T of order 8), k ≡ 0 mod 8 (holds cofactorless too)',
    rule: 'A in the prime-order subgroup',
    valid: false,
    publicKey: mixed,
    message: mixK0,
    signature: signWith(rB, r, mixed, a, mixK0),
  })
  const mixK1 = messageWhere(rB, mixed, (k) => k % 8n !== 0n)
  cases.push({
    name: 'mixed-order A (aB + T of order 8), k ≢ 0 mod 8 (holds only cofactored)',
    rule: 'A in the prime-order subgroup',
    valid: false,
    publicKey: mixed,
    message: mixK1,
    signature: signWith(rB, r, mixed, a, mixK1),
  })

  // Small-order and mixed-order R with a good key.
  cases.push({
    name: 'R the identity, S = k·a (holds in both equations)',
    rule: 'R not of small order',
    valid: false,
    publicKey: aBytes,
    message: m0,
    signature: signWith(id, 0n, aBytes, a, m0),
  })
  cases.push({
    name: 'R of order 8, S = k·a (holds only cofactored)',
    rule: 'R not of small order',
    valid: false,
    publicKey: aBytes,
    message: m0,
    signature: signWith(t8, 0n, aBytes, a, m0),
  })
  const rMixed = Point.BASE.multiply(r).add(T8).toBytes()
  cases.push({
    name: 'mixed-order R (rB + T of order 8), S = r + k·a (holds only cofactored)',
    rule: 'cofactorless equation (R in the prime-order subgroup)',
    valid: false,
    publicKey: aBytes,
    message: m0,
    signature: signWith(rMixed, r, aBytes, a, m0),
  })

  // Non-canonical encodings: the identity as y = p + 1, and with the sign bit set on x = 0.
  for (const [label, enc] of [
    ['y = p + 1', encodeY(P + 1n)],
    ['x = 0 with the sign bit set', encodeY(1n, true)],
  ] as const) {
    cases.push({
      name: `A the identity encoded with ${label}, R the identity, S = 0`,
      rule: 'canonical A',
      valid: false,
      publicKey: enc,
      message: m0,
      signature: concatBytes(id, le(0n)),
    })
    cases.push({
      name: `R the identity encoded with ${label}, S = k·a`,
      rule: 'canonical R',
      valid: false,
      publicKey: aBytes,
      message: m0,
      signature: signWith(enc, 0n, aBytes, a, m0),
    })
  }

  return {
    description:
      'Ed25519 cases on which verifiers disagree. valid: the verdict under RFC 8032 §5.1.7 with the strict rules (S < L; canonical A and R; A and R not of small order; A in the prime-order subgroup; the cofactorless equation). zip215: the verdict of a permissive cofactored verifier (@noble/curves with zip215: true), which accepts most of them.',
    cases: cases.map((c) => ({
      name: c.name,
      rule: c.rule,
      valid: c.valid,
      zip215: ed25519.verify(c.signature, c.message, c.publicKey, { zip215: true }),
      publicKey: bytesToHex(c.publicKey),
      message: bytesToHex(c.message),
      signature: bytesToHex(c.signature),
    })),
  }
}
