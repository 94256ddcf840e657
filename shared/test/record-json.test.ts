import { utf8ToBytes } from '@noble/hashes/utils.js'
import { describe, expect, it } from 'vitest'
import { ErrorCode } from '../src/errors.ts'
import { generateIdentity } from '../src/identity.ts'
import { createRecord, encodeRecord, validateRecord } from '../src/record.ts'
import { recordFromJson, recordToJson } from '../src/record-json.ts'
import { formatRecordKey } from '../src/record-key.ts'

const alice = generateIdentity()
const NOW = 1_800_000_000_000
const record = createRecord(alice, {
  key: formatRecordKey({ kind: 'circle', owner: alice.did, name: 'book-club' }),
  value: utf8ToBytes('{"name":"Book club","description":"Monthly reads"}'),
  providers: ['12D3KooW9pUQdmE58XE1LnjngZx1JxtnP81vj7WuvJGiYdc88eHW'],
  timestamp: NOW,
  public: true,
})
const failsWith = (code: ErrorCode) => expect.objectContaining({ code })

describe('the JSON form of a record', () => {
  it('round-trips through JSON text to the same record and the same wire bytes', async () => {
    const json = recordToJson(record)
    expect(json.value).toMatch(/^[A-Za-z0-9_-]+$/)
    expect(json.signature).toHaveLength(86)
    const back = recordFromJson(JSON.parse(JSON.stringify(json)))
    expect(back).toEqual(record)
    expect(encodeRecord(back)).toEqual(encodeRecord(record))
    await expect(validateRecord(back, { now: NOW })).resolves.toBeUndefined()
  })

  it('round-trips a tombstone (an empty value)', async () => {
    const tombstone = createRecord(alice, { key: record.key, value: new Uint8Array(0), timestamp: NOW })
    const json = recordToJson(tombstone)
    expect(json.value).toBe('')
    expect(recordFromJson(json)).toEqual(tombstone)
  })

  it.each([
    ['not an object', [1, 2]],
    ['a missing field', { ...recordToJson(record), signature: undefined }],
    ['an extra field', { ...recordToJson(record), extra: 1 }],
    ['a timestamp as text', { ...recordToJson(record), timestamp: '1' }],
    ['a fractional timestamp', { ...recordToJson(record), timestamp: 1.5 }],
    ['a provider that is not text', { ...recordToJson(record), providers: [1] }],
    ['bytes as an array', { ...recordToJson(record), value: [1, 2] }],
  ])('refuses %s with invalid_record', (_, json) => {
    expect(() => recordFromJson(JSON.parse(JSON.stringify(json)))).toThrowError(failsWith(ErrorCode.InvalidRecord))
  })

  it.each([
    ['padded base64url', (s: string) => `${s}==`],
    ['standard base64 characters', (s: string) => `+/${s.slice(2)}`],
    ['non-canonical trailing bits', (s: string) => `${s.slice(0, -1)}${s.at(-1) === 'x' ? 'y' : 'x'}`],
  ])('refuses a signature in %s with invalid_encoding', (_, mangle) => {
    const json = recordToJson(record)
    const bad = { ...json, signature: mangle(json.signature) }
    expect(() => recordFromJson(bad)).toThrowError(failsWith(ErrorCode.InvalidEncoding))
  })
})
