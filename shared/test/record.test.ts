import { utf8ToBytes } from '@noble/hashes/utils.js'
import { describe, expect, it } from 'vitest'
import { decodeCanonical, encodeCanonical } from '../src/canonical.ts'
import { encodeCapability, issueCapability } from '../src/capability.ts'
import { ErrorCode } from '../src/errors.ts'
import { generateIdentity } from '../src/identity.ts'
import { Limits } from '../src/limits.ts'
import {
  type ContentRecord,
  createRecord,
  decodeRecord,
  encodeRecord,
  selectRecord,
  selectRecordIndex,
  validateRecord,
} from '../src/record.ts'
import { recordFromJson, recordToJson } from '../src/record-json.ts'
import { formatRecordKey, parseRecordKey } from '../src/record-key.ts'

const alice = generateIdentity()
const mallory = generateIdentity()
const NOW = 1_800_000_000_000
const profileKey = formatRecordKey({ kind: 'profile', owner: alice.did })
const text = utf8ToBytes

function aliceRecord(overrides: Partial<Parameters<typeof createRecord>[1]> = {}): ContentRecord {
  return createRecord(alice, { key: profileKey, value: text('{"name":"Alice"}'), timestamp: NOW, ...overrides })
}

const failsWith = (code: ErrorCode) => expect.objectContaining({ code })

describe('record keys', () => {
  it('formats and parses /vivim/<kind>/<owner>[/<name>]', async () => {
    expect(profileKey).toBe(`/vivim/profile/${alice.did}`)
    expect(parseRecordKey(profileKey)).toEqual({ kind: 'profile', owner: alice.did })
    const circle = formatRecordKey({ kind: 'circle', owner: alice.did, name: 'book-club' })
    expect(parseRecordKey(circle)).toEqual({ kind: 'circle', owner: alice.did, name: 'book-club' })
  })

  it.each([
    ['a key outside /vivim/', `/other/profile/${alice.did}`],
    ['an unknown kind', `/vivim/wallet/${alice.did}`],
    ['an owner that is not a DID', '/vivim/profile/alice'],
    ['an empty name', `/vivim/circle/${alice.did}/`],
    ['a name with a space', `/vivim/circle/${alice.did}/book club`],
    ['extra segments', `/vivim/circle/${alice.did}/a/b`],
    ['an over-long key', `/vivim/circle/${alice.did}/${'x'.repeat(Limits.maxRecordKeyBytes)}`],
  ])('rejects %s', (_, key) => {
    expect(() => parseRecordKey(key)).toThrowError(failsWith(ErrorCode.InvalidKey))
  })
})

describe('content records', () => {
  it('a fresh record validates and round-trips its wire form', async () => {
    const record = aliceRecord({ providers: ['12D3KooWExample'], public: true })
    await expect(validateRecord(record, { now: NOW })).resolves.toBeUndefined()
    const decoded = decodeRecord(encodeRecord(record))
    expect(decoded).toEqual(record)
    await expect(validateRecord(decoded, { now: NOW })).resolves.toBeUndefined()
  })

  it('rejects a wrong signature: one flipped bit in the value or the signature', async () => {
    const record = aliceRecord()
    const value = record.value.slice()
    value[0] = (value[0] as number) ^ 1
    await expect(validateRecord({ ...record, value }, { now: NOW })).rejects.toThrowError(
      failsWith(ErrorCode.InvalidSignature),
    )
    const signature = record.signature.slice()
    signature[10] = (signature[10] as number) ^ 0x80
    await expect(validateRecord({ ...record, signature }, { now: NOW })).rejects.toThrowError(
      failsWith(ErrorCode.InvalidSignature),
    )
    await expect(validateRecord({ ...record, public: true }, { now: NOW })).rejects.toThrowError(
      failsWith(ErrorCode.InvalidSignature),
    )
  })

  it('rejects a key outside the namespace', async () => {
    const record = aliceRecord({ key: `/elsewhere/profile/${alice.did}` })
    await expect(validateRecord(record, { now: NOW })).rejects.toThrowError(failsWith(ErrorCode.InvalidKey))
  })

  it('rejects a record signed by someone other than the key owner', async () => {
    const forged = createRecord(mallory, { key: profileKey, value: text('{"name":"Mallory"}'), timestamp: NOW })
    await expect(validateRecord(forged, { now: NOW })).rejects.toThrowError(failsWith(ErrorCode.Forbidden))
  })

  it('rejects an oversize value and accepts one at the limit', async () => {
    const big = aliceRecord({ value: new Uint8Array(Limits.maxRecordValueBytes + 1) })
    await expect(validateRecord(big, { now: NOW })).rejects.toThrowError(failsWith(ErrorCode.ValueTooLarge))
    const atLimit = aliceRecord({ value: new Uint8Array(Limits.maxRecordValueBytes) })
    await expect(validateRecord(atLimit, { now: NOW })).resolves.toBeUndefined()
  })

  it('rejects a timestamp in the future past the allowed skew, and accepts one within it', async () => {
    const ahead = aliceRecord({ timestamp: NOW + Limits.maxClockSkewMs + 1 })
    await expect(validateRecord(ahead, { now: NOW })).rejects.toThrowError(failsWith(ErrorCode.TimestampInFuture))
    const withinSkew = aliceRecord({ timestamp: NOW + Limits.maxClockSkewMs })
    await expect(validateRecord(withinSkew, { now: NOW })).resolves.toBeUndefined()
  })

  it('rejects too many or malformed providers', async () => {
    const many = aliceRecord({ providers: Array.from({ length: Limits.maxRecordProviders + 1 }, (_, i) => `p${i}`) })
    await expect(validateRecord(many, { now: NOW })).rejects.toThrowError(failsWith(ErrorCode.InvalidRecord))
    const empty = aliceRecord({ providers: [''] })
    await expect(validateRecord(empty, { now: NOW })).rejects.toThrowError(failsWith(ErrorCode.InvalidRecord))
  })

  it('decode rejects wire forms with missing, extra or mistyped fields, and oversize input', async () => {
    const wire = decodeCanonical(encodeRecord(aliceRecord())) as Record<string, unknown>
    const { signature: _, ...missing } = wire
    const cases = [missing, { ...wire, extra: 1 }, { ...wire, timestamp: '1' }, { ...wire, timestamp: -1 }]
    for (const value of cases) {
      expect(() => decodeRecord(encodeCanonical(value as never))).toThrowError(failsWith(ErrorCode.InvalidRecord))
    }
    expect(() => decodeRecord(new Uint8Array(Limits.maxRecordBytes + 1))).toThrowError(
      failsWith(ErrorCode.PayloadTooLarge),
    )
    expect(() => decodeRecord(new Uint8Array([0xff]))).toThrowError(failsWith(ErrorCode.InvalidEncoding))
  })
})

describe('record selector', () => {
  it('the newer timestamp wins, whichever order the records come in', async () => {
    const older = aliceRecord({ timestamp: NOW })
    const newer = aliceRecord({ timestamp: NOW + 1, value: text('{"name":"Alice B."}') })
    expect(selectRecord(older, newer)).toBe(newer)
    expect(selectRecord(newer, older)).toBe(newer)
    expect(selectRecordIndex([older, newer, older])).toBe(1)
  })

  it('breaks a timestamp tie the same way in every order', async () => {
    const records = ['a', 'b', 'c', 'd'].map((v) => aliceRecord({ value: text(v) }))
    const winner = records.reduce((best, r) => selectRecord(best, r))
    for (const a of records) {
      for (const b of records) {
        expect(selectRecord(a, b)).toBe(selectRecord(b, a))
      }
    }
    expect(records[selectRecordIndex(records)]).toBe(winner)
    expect([...records].reverse()[selectRecordIndex([...records].reverse())]).toBe(winner)
  })
})

describe('records written by a grantee of the owner', () => {
  const bob = generateIdentity()
  const key = formatRecordKey({ kind: 'post', owner: alice.did, name: 'guest-post' })
  const grant = (over: Partial<Parameters<typeof issueCapability>[1]> = {}, issuer = alice) =>
    issueCapability(issuer, { aud: bob.did, res: `record:${key}`, can: ['write'], exp: NOW + 60_000, ...over })
  const bobsRecord = (cap: ReturnType<typeof grant>) =>
    createRecord(bob, { key, value: text('hi'), timestamp: NOW, cap })

  it('validates with the owner’s grant, and round-trips it', async () => {
    const record = bobsRecord(grant())
    await expect(validateRecord(record, { now: NOW })).resolves.toBeUndefined()
    const back = decodeRecord(encodeRecord(record))
    expect(back).toEqual(record)
    await expect(validateRecord(back, { now: NOW })).resolves.toBeUndefined()
    expect(recordFromJson(JSON.parse(JSON.stringify(recordToJson(record))))).toEqual(record)
  })

  it.each<[string, () => ContentRecord, ErrorCode]>([
    ['a grant from someone other than the owner', () => bobsRecord(grant({}, mallory)), ErrorCode.NotOwner],
    ['a grant to someone else', () => bobsRecord(grant({ aud: mallory.did })), ErrorCode.WrongAudience],
    ['a grant expired when the record was signed', () => bobsRecord(grant({ exp: NOW - 1 })), ErrorCode.TokenExpired],
    ['a read-only grant', () => bobsRecord(grant({ can: ['read'] })), ErrorCode.Forbidden],
    ['a grant for another key', () => bobsRecord(grant({ res: `record:${profileKey}` })), ErrorCode.Forbidden],
    [
      'a grant swapped in after signing',
      () => ({ ...bobsRecord(grant()), cap: encodeCapability(grant({ exp: NOW + 5 })) }),
      ErrorCode.InvalidSignature,
    ],
  ])('refuses %s', async (_, build, code) => {
    await expect(validateRecord(build(), { now: NOW })).rejects.toThrowError(failsWith(code))
  })
})
