import { hexToBytes } from '@noble/hashes/utils.js'
import { ed25519Backend, generateIdentity, sign, signAsync, verify, verifyAsync } from '@vivim/shared'
import { describe, expect, it } from 'vitest'
import vectors from '../../shared/fixtures/ed25519-strict.json' with { type: 'json' }

const cases = vectors.cases.map((c) => ({
  ...c,
  key: hexToBytes(c.publicKey),
  msg: hexToBytes(c.message),
  sig: hexToBytes(c.signature),
}))

describe('Ed25519 in workerd: RFC 8032 strict (shared/fixtures/ed25519-strict.json)', () => {
  it('workerd verifies with WebCrypto', async () => {
    expect(await ed25519Backend()).toBe('webcrypto')
  })

  it.each(cases)('WebCrypto: $name → $valid', async (c) => {
    expect(await verifyAsync(c.key, c.msg, c.sig)).toBe(c.valid)
    expect(await verifyAsync(c.key, c.msg, c.sig, { backend: 'webcrypto' })).toBe(c.valid)
  })

  it.each(cases)('noble, async and sync: $name → $valid', async (c) => {
    expect(await verifyAsync(c.key, c.msg, c.sig, { backend: 'noble' })).toBe(c.valid)
    expect(verify(c.key, c.msg, c.sig)).toBe(c.valid)
  })

  it('workerd’s verifier alone accepts cases the strict rules refuse, so the checks before it matter', async () => {
    let accepted = 0
    for (const c of cases.filter((x) => !x.valid)) {
      const key = await crypto.subtle.importKey('raw', c.key, { name: 'Ed25519' }, false, ['verify'])
      if (await crypto.subtle.verify('Ed25519', key, c.sig, c.msg)) accepted++
    }
    expect(accepted).toBeGreaterThan(0)
  })

  it('signs natively with the bytes noble gives', async () => {
    const alice = generateIdentity()
    const m = new TextEncoder().encode('workerd')
    expect(await signAsync(alice, m)).toEqual(sign(alice, m))
  })
})
