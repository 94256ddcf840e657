import { hexToBytes } from '@noble/hashes/utils.js'
import { utf8 } from '@scure/base'
import { describe, expect, it } from 'vitest'
import capabilities from '../fixtures/capabilities.json' with { type: 'json' }
import didKey from '../fixtures/did-key.json' with { type: 'json' }
import encryption from '../fixtures/encryption.json' with { type: 'json' }
import records from '../fixtures/records.json' with { type: 'json' }
import { type Action, decodeCapability } from '../src/capability.ts'
import { verifyCapability } from '../src/capability-verify.ts'
import { CircleKeyRing, decryptForCircle, unwrapCircleKey } from '../src/circle-keys.ts'
import { identityFromSecretKey, publicKeyFromDid } from '../src/identity.ts'
import { decodeRecord, validateRecord } from '../src/record.ts'
import { openSealed } from '../src/seal.ts'

/** Runs `check`; returns null when it passes, else the error code it threw. */
function outcome(check: () => void): string | null {
  try {
    check()
    return null
  } catch (error) {
    return (error as { code?: string }).code ?? 'threw without a code'
  }
}

describe('fixtures: did:key', () => {
  it.each(didKey.cases)('$name', (c) => {
    if (c.valid) expect(identityFromSecretKey(hexToBytes(c.seed as string)).did).toBe(c.did)
    else expect(outcome(() => publicKeyFromDid(c.did))).toBe(c.error)
  })
})

describe('fixtures: records', () => {
  it.each(records.cases)('$name', (c) => {
    const result = outcome(() => validateRecord(decodeRecord(hexToBytes(c.record)), { now: records.now }))
    expect(result).toBe(c.valid ? null : c.error)
  })
})

describe('fixtures: capabilities', () => {
  const owners: Record<string, string> = capabilities.owners
  it.each(capabilities.cases)('$name', (c) => {
    const result = outcome(() =>
      verifyCapability(decodeCapability(hexToBytes(c.token)), {
        resource: c.resource,
        action: c.action as Action,
        audience: c.audience,
        now: capabilities.now,
        ownerOf: (r) => owners[r] ?? null,
      }),
    )
    expect(result).toBe(c.valid ? null : (c as { error?: string }).error)
  })
})

describe('fixtures: encryption', () => {
  it.each(encryption.sealed)('$name', (c) => {
    const recipient = identityFromSecretKey(hexToBytes(c.recipientSeed))
    expect(utf8.encode(openSealed(recipient, hexToBytes(c.sealed)))).toBe(c.plaintext)
  })

  it('circle key wrapped for a member, and a circle message', () => {
    const bob = identityFromSecretKey(hexToBytes(encryption.sealed[0]?.recipientSeed as string))
    const key = unwrapCircleKey(bob, hexToBytes(encryption.circle.wrappedForBob))
    expect({ ...key, key: [...key.key] }).toEqual({
      circle: encryption.circle.key.circle,
      epoch: encryption.circle.key.epoch,
      key: [...hexToBytes(encryption.circle.key.key)],
    })
    const plain = decryptForCircle(new CircleKeyRing([key]), hexToBytes(encryption.circle.message))
    expect(utf8.encode(plain)).toBe(encryption.circle.plaintext)
  })
})
