import { xchacha20poly1305 } from '@noble/ciphers/chacha.js'
import { ed25519, x25519 } from '@noble/curves/ed25519.js'
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js'
import { base58 } from '@scure/base'
import { describe, expect, it } from 'vitest'
import { identityFromSecretKey, sign, verify } from '../src/identity.ts'
import { agreementKeyPair, agreementPublicKeyOf } from '../src/keys.ts'

// Known answers from the published documents, so the primitives this
// project builds on are the ones the standards name.

describe('RFC 8032 Ed25519 (section 7.1)', () => {
  it('TEST 1: key and signature of the empty message', () => {
    const id = identityFromSecretKey(hexToBytes('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60'))
    expect(bytesToHex(id.publicKey)).toBe('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a')
    const sig = sign(id, new Uint8Array())
    expect(bytesToHex(sig)).toBe(
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
    )
    expect(verify(id.publicKey, new Uint8Array(), sig)).toBe(true)
  })

  it('TEST 2: one-byte message', () => {
    const publicKey = hexToBytes('3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c')
    const sig = hexToBytes(
      '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
    )
    expect(verify(publicKey, hexToBytes('72'), sig)).toBe(true)
    expect(verify(publicKey, hexToBytes('73'), sig)).toBe(false)
  })
})

describe('RFC 7748 X25519 (section 6.1)', () => {
  const alice = hexToBytes('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a')
  const bob = hexToBytes('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb')
  it('public keys and the shared secret, both ways', () => {
    expect(bytesToHex(x25519.getPublicKey(alice))).toBe(
      '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a',
    )
    expect(bytesToHex(x25519.getPublicKey(bob))).toBe(
      'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f',
    )
    const shared = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742'
    expect(bytesToHex(x25519.getSharedSecret(alice, x25519.getPublicKey(bob)))).toBe(shared)
    expect(bytesToHex(x25519.getSharedSecret(bob, x25519.getPublicKey(alice)))).toBe(shared)
  })
})

describe('XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha, A.3.1)', () => {
  it('encrypts and decrypts the draft’s vector', () => {
    const key = hexToBytes('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f')
    const nonce = hexToBytes('404142434445464748494a4b4c4d4e4f5051525354555657')
    const aad = hexToBytes('50515253c0c1c2c3c4c5c6c7')
    const plaintext = utf8ToBytes(
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
    )
    const expected =
      'bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff921f9664c97637da9768812f615c68b13b52e' +
      'c0875924c1c7987947deafd8780acf49'
    const sealed = xchacha20poly1305(key, nonce, aad).encrypt(plaintext)
    expect(bytesToHex(sealed)).toBe(expected)
    expect(xchacha20poly1305(key, nonce, aad).decrypt(sealed)).toEqual(plaintext)
    sealed[0] = (sealed[0] as number) ^ 1
    expect(() => xchacha20poly1305(key, nonce, aad).decrypt(sealed)).toThrow()
  })
})

describe('did:key agreement keys (did:key test vectors, X25519 keyAgreement)', () => {
  // w3c-ccg/did-method-key test-vectors/ed25519-x25519.json
  it.each([
    [
      '0000000000000000000000000000000000000000000000000000000000000000',
      '7By6kV2t2d188odEM4ExAve1UithKT6dLva4dwsDT3ak',
    ],
    [
      '0000000000000000000000000000000000000000000000000000000000000001',
      'FcoNC5NqP9CePWbhfz95iHaEsCjGkZUioK9Ck7Qiw286',
    ],
    [
      '0000000000000000000000000000000000000000000000000000000000000002',
      'A5fe37PAxhX5WNKngBpGHhC1KpNE7nwbK9oX2tqwxYxU',
    ],
  ])('seed %s gives X25519 key %s', (seed, x25519PublicBase58) => {
    const id = identityFromSecretKey(hexToBytes(seed))
    expect(base58.encode(agreementKeyPair(id).publicKey)).toBe(x25519PublicBase58)
    expect(base58.encode(agreementPublicKeyOf(id.did))).toBe(x25519PublicBase58)
    expect(ed25519.utils.toMontgomery(id.publicKey)).toEqual(agreementPublicKeyOf(id.did))
  })
})
