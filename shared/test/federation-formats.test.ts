import { describe, expect, it } from 'vitest'
import {
  ActivityType,
  createDescriptor,
  decodeActivity,
  decodeTransaction,
  encodeActivity,
  encodeCanonical,
  encodeTransaction,
  endpointOf,
  generateIdentity,
  Limits,
  newTransactionId,
  parseDomain,
  validateDescriptor,
} from '../src/index.ts'

const edge = generateIdentity()
const init = { domain: 'a.example', version: '1.0.0', capabilities: ['topics', 'docs'], peers: ['B.example:8443'] }
const code = (c: string) => expect.objectContaining({ code: c })

describe('instance descriptor', () => {
  it('round-trips through JSON and validates for its own domain', async () => {
    const signed = JSON.parse(JSON.stringify(createDescriptor(edge, init)))
    const d = await validateDescriptor(signed, { domain: 'A.example' })
    expect(d).toMatchObject({ did: edge.did, endpoint: 'https://a.example', peers: ['b.example:8443'] })
  })

  it('refuses it for another domain, tampered, expired, or signed by another key', async () => {
    const signed = createDescriptor(edge, init)
    await expect(validateDescriptor(signed, { domain: 'b.example' })).rejects.toThrow(code('invalid_descriptor'))
    const tampered = { ...signed, descriptor: { ...signed.descriptor, peers: ['evil.example'] } }
    await expect(validateDescriptor(tampered, { domain: 'a.example' })).rejects.toThrow(code('invalid_descriptor'))
    const later = signed.descriptor.expiresAt + 1
    await expect(validateDescriptor(signed, { domain: 'a.example', now: later })).rejects.toThrow(
      code('invalid_descriptor'),
    )
    const other = createDescriptor(generateIdentity(), init)
    const swapped = { descriptor: { ...other.descriptor, did: edge.did }, signature: other.signature }
    await expect(validateDescriptor(swapped, { domain: 'a.example' })).rejects.toThrow(code('invalid_descriptor'))
    await expect(validateDescriptor({ descriptor: 7 }, { domain: 'a.example' })).rejects.toThrow(
      code('invalid_descriptor'),
    )
  })

  it('uses plain HTTP only for loopback or when development allows it', async () => {
    expect(endpointOf('127.0.0.1:8787')).toBe('http://127.0.0.1:8787')
    expect(endpointOf('a.example')).toBe('https://a.example')
    expect(endpointOf('a.example', true)).toBe('http://a.example')
    const plain = createDescriptor(edge, { ...init, allowHttp: true })
    expect((await validateDescriptor(plain, { domain: 'a.example' })).endpoint).toBe('http://a.example')
    for (const bad of ['', 'a..example', 'a.example/path', 'user@a.example', 'a.example:123456']) {
      expect(() => parseDomain(bad)).toThrow(code('bad_request'))
    }
  })
})

describe('transactions', () => {
  const tx = {
    id: newTransactionId(),
    from: edge.did,
    to: generateIdentity().did,
    seq: 1,
    at: 1_800_000_000_000,
    activity: { t: ActivityType.DocSync, doc: 'notes-1', sv: new Uint8Array([0]), reply: false },
  } as const

  it('round-trip, and so do activities alone', async () => {
    expect(decodeTransaction(encodeTransaction(tx))).toEqual(tx)
    expect(decodeActivity(encodeActivity(tx.activity))).toEqual(tx.activity)
  })

  it('refuse unknown activities, missing or extra fields, bad seq, and oversize bodies', async () => {
    const raw = (value: Record<string, unknown>) => encodeCanonical({ v: 'vivim-fed/1', ...tx, ...value } as never)
    expect(() => decodeTransaction(raw({ activity: { t: 'nope' } }))).toThrow(code('bad_request'))
    expect(() => decodeTransaction(raw({ activity: { t: 'doc.update', doc: 'x' } }))).toThrow(code('bad_request'))
    expect(() => decodeTransaction(raw({ activity: { ...tx.activity, extra: 1 } }))).toThrow(code('bad_request'))
    expect(() => decodeTransaction(raw({ seq: 0 }))).toThrow(code('bad_request'))
    expect(() => decodeTransaction(raw({ id: 'short' }))).toThrow(code('bad_request'))
    expect(() => decodeTransaction(raw({ from: 'did:web:x' }))).toThrow(code('bad_request'))
    expect(() => decodeTransaction(raw({ v: 'vivim-fed/2' }))).toThrow(code('bad_request'))
    expect(() => decodeTransaction(new Uint8Array(Limits.maxFederationTransactionBytes + 1))).toThrow(
      code('payload_too_large'),
    )
  })
})
