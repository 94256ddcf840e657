import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import { utf8 } from '@scure/base'
import { describe, expect, it } from 'vitest'
import capabilities from '../fixtures/capabilities.json' with { type: 'json' }
import didKey from '../fixtures/did-key.json' with { type: 'json' }
import encryption from '../fixtures/encryption.json' with { type: 'json' }
import records from '../fixtures/records.json' with { type: 'json' }
import topics from '../fixtures/topics.json' with { type: 'json' }
import { type Action, decodeCapability } from '../src/capability.ts'
import { verifyCapability } from '../src/capability-verify.ts'
import { CircleKeyRing, decryptForCircle, unwrapCircleKey } from '../src/circle-keys.ts'
import { identityFromSecretKey, publicKeyFromDid } from '../src/identity.ts'
import { decodeRecord, validateRecord } from '../src/record.ts'
import { openSealed } from '../src/seal.ts'
import {
  decodeEnvelope,
  encodeEnvelope,
  envelopeSigningBytes,
  messageId,
  type TopicEnvelope,
  validateEnvelope,
  validateEnvelopeAsync,
} from '../src/topic-envelope.ts'
import { decodeTopicClientFrame, decodeTopicServerFrame, encodeTopicFrame } from '../src/topic-protocol.ts'

/** Runs `check`; returns null when it passes, else the error code it threw. */
function outcome(check: () => void): string | null {
  try {
    check()
    return null
  } catch (error) {
    return (error as { code?: string }).code ?? 'threw without a code'
  }
}

/** `outcome` for a check that returns a promise. */
async function outcomeAsync(check: () => Promise<unknown>): Promise<string | null> {
  try {
    await check()
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
  it.each(records.cases)('$name', async (c) => {
    const result = await outcomeAsync(() => validateRecord(decodeRecord(hexToBytes(c.record)), { now: records.now }))
    expect(result).toBe(c.valid ? null : c.error)
  })
})

describe('fixtures: capabilities', () => {
  const owners: Record<string, string> = capabilities.owners
  it.each(capabilities.cases)('$name', async (c) => {
    const result = await outcomeAsync(() =>
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

describe('fixtures: topics', () => {
  const e = topics.envelope
  const envelope: TopicEnvelope = {
    topic: e.topic,
    payload: hexToBytes(e.payload),
    author: e.author as TopicEnvelope['author'],
    timestamp: e.timestamp,
    nonce: hexToBytes(e.nonce),
    signature: hexToBytes(e.signature),
  }

  it('the envelope: its author, signing bytes, encoding and message id', () => {
    expect(identityFromSecretKey(hexToBytes(topics.seed)).did).toBe(e.author)
    expect(bytesToHex(envelopeSigningBytes(envelope))).toBe(topics.signingBytes)
    expect(bytesToHex(encodeEnvelope(envelope))).toBe(topics.encoded)
    expect(messageId(envelope)).toBe(topics.messageId)
  })

  it('the frames carry the envelope as a nested map', () => {
    expect(bytesToHex(encodeTopicFrame({ t: 'pub', e: envelope }))).toBe(topics.frames.pub)
    expect(bytesToHex(encodeTopicFrame({ t: 'msg', c: 1, e: envelope }))).toBe(topics.frames.msg)
    expect(bytesToHex(encodeTopicFrame({ t: 'live', c: 0 }))).toBe(topics.frames.live)
    expect(decodeTopicClientFrame(hexToBytes(topics.frames.pub))).toEqual({ t: 'pub', e: envelope })
    expect(decodeTopicServerFrame(hexToBytes(topics.frames.msg))).toEqual({ t: 'msg', c: 1, e: envelope })
  })

  it.each(topics.cases)('$name', async (c) => {
    const envelope = decodeEnvelope(hexToBytes(c.envelope))
    const result = outcome(() => validateEnvelope(envelope, { now: topics.now }))
    expect(result).toBe(c.valid ? null : (c as { error?: string }).error)
    expect(await outcomeAsync(() => validateEnvelopeAsync(envelope, { now: topics.now }))).toBe(result)
  })

  it.each(topics.badFrames)('$name', (c) => {
    expect(outcome(() => decodeTopicClientFrame(hexToBytes(c.frame)))).toBe(c.error)
  })
})
