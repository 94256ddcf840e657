import { ED25519_TORSION_SUBGROUP, ed25519 } from '@noble/curves/ed25519.js'
import { hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js'
import { describe, expect, it } from 'vitest'
import vectors from '../fixtures/ed25519-strict.json' with { type: 'json' }
import { ed25519Backend } from '../src/ed25519.ts'
import { generateIdentity, sign, signAsync, verify, verifyAsync } from '../src/identity.ts'

/** Node's WebCrypto (the shared project is typed without Node's or the DOM's globals). */
const subtle = (
  globalThis as unknown as {
    crypto: {
      subtle: {
        importKey(f: 'raw', k: Uint8Array, a: { name: string }, x: boolean, u: string[]): Promise<unknown>
        verify(a: string, k: unknown, s: Uint8Array, m: Uint8Array): Promise<boolean>
      }
    }
  }
).crypto.subtle

const cases = vectors.cases.map((c) => ({
  ...c,
  key: hexToBytes(c.publicKey),
  msg: hexToBytes(c.message),
  sig: hexToBytes(c.signature),
}))

describe('Ed25519: RFC 8032 strict on every path (shared/fixtures/ed25519-strict.json)', () => {
  it('Node 22 verifies with WebCrypto', async () => {
    expect(await ed25519Backend()).toBe('webcrypto')
  })

  it.each(cases)('WebCrypto path: $name → $valid', async (c) => {
    expect(await verifyAsync(c.key, c.msg, c.sig, { backend: 'webcrypto' })).toBe(c.valid)
    expect(await verifyAsync(c.key, c.msg, c.sig)).toBe(c.valid)
  })

  it.each(cases)('noble fallback and the synchronous verify: $name → $valid', async (c) => {
    expect(await verifyAsync(c.key, c.msg, c.sig, { backend: 'noble' })).toBe(c.valid)
    expect(verify(c.key, c.msg, c.sig)).toBe(c.valid)
  })

  it('the vectors are real disagreements: a permissive verifier accepts every refused case but S ≥ L', () => {
    for (const c of cases) {
      expect(ed25519.verify(c.sig, c.msg, c.key, { zip215: true }), c.name).toBe(c.zip215)
      if (!c.valid && c.rule !== 'S < L') expect(c.zip215, c.name).toBe(true)
    }
  })

  it('the platform verifier alone accepts cases the strict rules refuse, so the checks before it matter', async () => {
    const accepted: string[] = []
    for (const c of cases.filter((x) => !x.valid)) {
      const key = await subtle.importKey('raw', c.key, { name: 'Ed25519' }, false, ['verify'])
      if (await subtle.verify('Ed25519', key, c.sig, c.msg)) accepted.push(c.rule)
    }
    expect(accepted).toEqual(
      expect.arrayContaining([
        'A and R not of small order',
        'A in the prime-order subgroup',
        'R not of small order',
        'canonical A',
      ]),
    )
  })

  it('verifyAsync takes a did:key or a key and resolves false on malformed input', async () => {
    const alice = generateIdentity()
    const m = utf8ToBytes('m')
    const sig = sign(alice, m)
    expect(await verifyAsync(alice.did, m, sig)).toBe(true)
    expect(await verifyAsync('did:key:znope', m, sig)).toBe(false)
    expect(await verifyAsync(alice.did, m, sig.slice(0, 63))).toBe(false)
    expect(await verifyAsync(alice.publicKey.slice(0, 31), m, sig)).toBe(false)
  })

  it('the small-order points noble ships are of small order', () => {
    for (const hex of ED25519_TORSION_SUBGROUP) expect(ed25519.Point.fromHex(hex).isSmallOrder()).toBe(true)
  })

  it('signAsync (native pkcs8 key) gives the bytes sign gives', async () => {
    const alice = generateIdentity()
    const m = utf8ToBytes('deterministic')
    expect(await signAsync(alice, m)).toEqual(sign(alice, m))
    expect(await signAsync(alice, m)).toEqual(sign(alice, m))
  })
})
