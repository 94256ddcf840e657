import { hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js'
import { base58 } from '@scure/base'
import { describe, expect, it } from 'vitest'
import { ErrorCode } from '../src/errors.ts'
import {
  didFromPublicKey,
  generateIdentity,
  identityFromSecretKey,
  isDid,
  publicKeyFromDid,
  sign,
  verify,
} from '../src/identity.ts'

// The Ed25519 examples of the did:key specification's test vectors
// (w3c-ccg/did-method-key, test-vectors/ed25519-x25519.json): a 32-byte seed,
// its public key in base58, and the DID.
const SPEC_VECTORS = [
  {
    seed: '0000000000000000000000000000000000000000000000000000000000000000',
    publicKeyBase58: '4zvwRjXUKGfvwnParsHAS3HuSVzV5cA4McphgmoCtajS',
    did: 'did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp',
  },
  {
    seed: '0000000000000000000000000000000000000000000000000000000000000001',
    publicKeyBase58: '6ASf5EcmmEHTgDJ4X4ZT5vT6iHVJBXPg5AN5YoTCpGWt',
    did: 'did:key:z6MkjchhfUsD6mmvni8mCdXHw216Xrm9bQe2mBH1P5RDjVJG',
  },
  {
    seed: '0000000000000000000000000000000000000000000000000000000000000002',
    publicKeyBase58: '8pM1DN3RiT8vbom5u1sNryaNT1nyL8CTTW3b5PwWXRBH',
    did: 'did:key:z6MknGc3ocHs3zdPiJbnaaqDi58NGb4pk1Sp9WxWufuXSdxf',
  },
  {
    seed: '0000000000000000000000000000000000000000000000000000000000000003',
    publicKeyBase58: 'HPYVwAQmskwT1qEEeRzhoomyfyupJGASQQtCXSNG8XS2',
    did: 'did:key:z6MkvqoYXQfDDJRv8L4wKzxYeuKyVZBfi9Qo6Ro8MiLH3kDQ',
  },
  {
    seed: '0000000000000000000000000000000000000000000000000000000000000004',
    publicKeyBase58: 'J3qYF7YJMKCqQke47UQwiHizgFUXapHxRxKmxbkar89x',
    did: 'did:key:z6MkwW6aqMnjgrhJXFUko3NnZPGzVpkNzhYK7yEhnsibmLwL',
  },
]

describe('did:key', () => {
  it.each(SPEC_VECTORS)('matches the spec vector $did', ({ seed, publicKeyBase58, did }) => {
    const identity = identityFromSecretKey(hexToBytes(seed))
    expect(base58.encode(identity.publicKey)).toBe(publicKeyBase58)
    expect(identity.did).toBe(did)
    expect(didFromPublicKey(base58.decode(publicKeyBase58))).toBe(did)
    expect(publicKeyFromDid(did)).toEqual(base58.decode(publicKeyBase58))
  })

  it('round-trips a generated identity', () => {
    const identity = generateIdentity()
    expect(identity.did).toMatch(/^did:key:z6Mk/)
    expect(publicKeyFromDid(identity.did)).toEqual(identity.publicKey)
    expect(identityFromSecretKey(identity.secretKey).did).toBe(identity.did)
  })

  it.each([
    ['not a did', 'hello'],
    ['another method', 'did:web:example.com'],
    ['base64 instead of base58btc', 'did:key:m7QEtsgxNbCJ2qdaP1JvWz'],
    ['characters outside base58', 'did:key:z0OIl'],
    ['a secp256k1 key', 'did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme'],
    ['a truncated key', SPEC_VECTORS[0]?.did.slice(0, -4) ?? ''],
  ])('rejects %s', (_, did) => {
    expect(() => publicKeyFromDid(did)).toThrowError(expect.objectContaining({ code: ErrorCode.InvalidDid }))
    expect(isDid(did)).toBe(false)
  })

  it('rejects a public key of the wrong length', () => {
    expect(() => didFromPublicKey(new Uint8Array(31))).toThrowError(
      expect.objectContaining({ code: ErrorCode.InvalidDid }),
    )
    expect(() => identityFromSecretKey(new Uint8Array(16))).toThrowError(
      expect.objectContaining({ code: ErrorCode.InvalidKey }),
    )
  })
})

describe('signatures', () => {
  const alice = generateIdentity()
  const message = utf8ToBytes('the meeting moved to Thursday')
  const signature = sign(alice, message)

  it('verify accepts a signature by the DID or the raw key', () => {
    expect(verify(alice.did, message, signature)).toBe(true)
    expect(verify(alice.publicKey, message, signature)).toBe(true)
  })

  it('fails after one flipped bit anywhere in the signature', () => {
    for (let bit = 0; bit < signature.length * 8; bit += 37) {
      const flipped = signature.slice()
      flipped[bit >> 3] = (flipped[bit >> 3] as number) ^ (1 << (bit & 7))
      expect(verify(alice.did, message, flipped)).toBe(false)
    }
  })

  it('fails after one flipped bit in the message', () => {
    const flipped = message.slice()
    flipped[3] = (flipped[3] as number) ^ 0x01
    expect(verify(alice.did, flipped, signature)).toBe(false)
  })

  it('fails for another signer, and on malformed input without throwing', () => {
    expect(verify(generateIdentity().did, message, signature)).toBe(false)
    expect(verify(alice.did, message, signature.slice(0, 63))).toBe(false)
    expect(verify('did:key:znope', message, signature)).toBe(false)
  })
})
