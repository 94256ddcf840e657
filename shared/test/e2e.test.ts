import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js'
import { utf8 } from '@scure/base'
import { describe, expect, it } from 'vitest'
import { encodeCanonical } from '../src/canonical.ts'
import {
  CircleKeyRing,
  createCircleKey,
  decryptForCircle,
  encryptForCircle,
  rotateCircleKey,
  unwrapCircleKey,
  wrapCircleKey,
} from '../src/circle-keys.ts'
import { ErrorCode } from '../src/errors.ts'
import { generateIdentity } from '../src/identity.ts'
import { exportKeys, importKeys } from '../src/keys.ts'
import { openSealed, seal } from '../src/seal.ts'

const alice = generateIdentity()
const bob = generateIdentity()
const carol = generateIdentity()
const text = (b: Uint8Array) => utf8.encode(b)
const decryptFailed = expect.objectContaining({ code: ErrorCode.DecryptFailed })

describe('key manager format', () => {
  it('exports and imports an identity', () => {
    const text = exportKeys(alice)
    expect(JSON.parse(text)).toEqual({ v: 'vivim-keys/1', seed: expect.any(String) })
    expect(importKeys(text).did).toBe(alice.did)
  })

  it.each(['nope', '{}', '{"v":"vivim-keys/1","seed":"!!"}', '{"v":"vivim-keys/1","seed":"AAAA"}'])(
    'refuses %s',
    (text) => {
      expect(() => importKeys(text)).toThrowError(expect.objectContaining({ code: ErrorCode.InvalidKey }))
    },
  )
})

describe('sealed messages', () => {
  it('only the recipient opens them', () => {
    const box = seal(bob.did, utf8ToBytes('for Bob only'))
    expect(text(openSealed(bob, box))).toBe('for Bob only')
    expect(() => openSealed(carol, box)).toThrowError(decryptFailed)
  })

  it('hide the plaintext and fail on any change', () => {
    const box = seal(bob.did, utf8ToBytes('secret plans'))
    expect(bytesToHex(box)).not.toContain(bytesToHex(utf8ToBytes('secret plans')))
    for (let i = 0; i < box.length; i += 7) {
      const tampered = box.slice()
      tampered[i] = (tampered[i] as number) ^ 1
      expect(() => openSealed(bob, tampered)).toThrow()
    }
    expect(() => openSealed(bob, encodeCanonical({ v: 'vivim-seal/1' }))).toThrowError(decryptFailed)
  })
})

describe('circle keys', () => {
  it('members read messages; a removed member cannot read anything after the rotation', () => {
    const k0 = createCircleKey('book-club')
    const w0 = wrapCircleKey(k0, [alice.did, bob.did, carol.did])
    const rings = Object.fromEntries(
      [alice, bob, carol].map((m) => [m.did, new CircleKeyRing([unwrapCircleKey(m, w0[m.did] as Uint8Array)])]),
    )
    const before = encryptForCircle(k0, utf8ToBytes('before removal'))
    for (const m of [alice, bob, carol]) {
      expect(text(decryptForCircle(rings[m.did] as CircleKeyRing, before))).toBe('before removal')
    }

    const { key: k1, wrapped: w1 } = rotateCircleKey(k0, [alice.did, bob.did])
    expect(k1.epoch).toBe(1)
    expect(w1[carol.did]).toBeUndefined()
    for (const m of [alice, bob]) rings[m.did]?.add(unwrapCircleKey(m, w1[m.did] as Uint8Array))
    const after = encryptForCircle(k1, utf8ToBytes('after removal'))
    expect(text(decryptForCircle(rings[bob.did] as CircleKeyRing, after))).toBe('after removal')
    expect(() => decryptForCircle(rings[carol.did] as CircleKeyRing, after)).toThrowError(decryptFailed)
    for (const wrappedForOther of Object.values(w1)) {
      expect(() => unwrapCircleKey(carol, wrappedForOther)).toThrowError(decryptFailed)
    }
    // Old history stays readable to those who remain.
    expect(text(decryptForCircle(rings[alice.did] as CircleKeyRing, before))).toBe('before removal')
  })

  it('a ciphertext cannot be moved to another circle or epoch', () => {
    const k = createCircleKey('a')
    const other = { ...k, circle: 'b' }
    const msg = encryptForCircle(k, utf8ToBytes('x'))
    expect(() => decryptForCircle(new CircleKeyRing([other]), msg)).toThrowError(decryptFailed)
    expect(() => decryptForCircle(new CircleKeyRing([k]), utf8ToBytes('garbage'))).toThrowError(decryptFailed)
  })
})
