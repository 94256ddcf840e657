import { env } from 'cloudflare:test'
import {
  type ContentRecord,
  createRecord,
  ErrorCode,
  encodeCanonical,
  encodeRecord,
  formatRecordKey,
  generateIdentity,
  type Identity,
  Limits,
  recordToJson,
} from '@vivim/shared'
import { beforeAll, describe, expect, it } from 'vitest'
import { encodeKeyCursor, encodeSearchCursor } from '../indexer/page.ts'
import { edge, expectError, get, put, putBytes, putOk, searchKeys, signed, uniqueWord } from './indexer-client.ts'

const alice = generateIdentity()
const mallory = generateIdentity()
const word = uniqueWord()
let good: ContentRecord

/** The stored record, its KV copy and its search entry, to compare before and after a refused write. */
async function snapshot() {
  const res = await get(good.key)
  return {
    served: new Uint8Array(await res.arrayBuffer()),
    kv: new Uint8Array((await env.RECORDS.get(good.key, 'arrayBuffer')) ?? new ArrayBuffer(0)),
    search: await searchKeys(word),
  }
}

function make(author: Identity, overrides: Partial<Parameters<typeof createRecord>[1]> = {}): ContentRecord {
  return createRecord(author, { key: good.key, value: new TextEncoder().encode('{"displayName":"x"}'), ...overrides })
}

function flipped(bytes: Uint8Array, index: number): Uint8Array {
  const out = bytes.slice()
  out[index] = (out[index] as number) ^ 1
  return out
}

beforeAll(async () => {
  good = signed(alice, 'profile', { displayName: word })
  await putOk(good)
})

describe('a refused record write changes nothing stored', () => {
  const cases: [string, () => Promise<Response>, number, ErrorCode][] = [
    [
      'an invalid signature',
      () => put({ ...make(alice), signature: flipped(make(alice).signature, 3) }),
      400,
      ErrorCode.InvalidSignature,
    ],
    [
      'a value altered after signing',
      () => put({ ...make(alice), value: new TextEncoder().encode('{"displayName":"y"}') }),
      400,
      ErrorCode.InvalidSignature,
    ],
    [
      'a key outside the namespace',
      () => putBytes(`/elsewhere/profile/${alice.did}`, encodeRecord(make(alice))),
      400,
      ErrorCode.InvalidKey,
    ],
    [
      'a record whose key is not the path’s',
      () => putBytes(formatRecordKey({ kind: 'post', owner: alice.did, name: 'x' }), encodeRecord(make(alice))),
      400,
      ErrorCode.InvalidKey,
    ],
    ['a record signed by someone other than the owner', () => put(make(mallory)), 403, ErrorCode.Forbidden],
    [
      'an oversize value',
      () => put(make(alice, { value: new Uint8Array(Limits.maxRecordValueBytes + 1) })),
      413,
      ErrorCode.ValueTooLarge,
    ],
    [
      'a body over the record size',
      () => putBytes(good.key, new Uint8Array(Limits.maxRecordBytes + 1)),
      413,
      ErrorCode.PayloadTooLarge,
    ],
    [
      'a timestamp too far in the future',
      () => put(make(alice, { timestamp: Date.now() + Limits.maxClockSkewMs + 60_000 })),
      400,
      ErrorCode.TimestampInFuture,
    ],
    ['a replayed older record', () => put(make(alice, { timestamp: good.timestamp - 1 })), 409, ErrorCode.StaleRecord],
    ['malformed CBOR', () => putBytes(good.key, new Uint8Array([0xa7, 0x63, 0x6b])), 400, ErrorCode.InvalidEncoding],
    [
      'CBOR that is not in deterministic encoding',
      () => putBytes(good.key, Uint8Array.of(0x19, 0x00, 0x01)),
      400,
      ErrorCode.InvalidEncoding,
    ],
    [
      'CBOR that is not a record',
      () => putBytes(good.key, encodeCanonical({ key: good.key })),
      400,
      ErrorCode.InvalidRecord,
    ],
    [
      'a providers list past the limit',
      () => put(make(alice, { providers: Array.from({ length: Limits.maxRecordProviders + 1 }, (_, i) => `p${i}`) })),
      400,
      ErrorCode.InvalidRecord,
    ],
    ['malformed JSON', () => putBytes(good.key, '{"key":', 'application/json'), 400, ErrorCode.InvalidEncoding],
    [
      'JSON with padded base64',
      () => putBytes(good.key, JSON.stringify({ ...recordToJson(make(alice)), value: 'e30=' }), 'application/json'),
      400,
      ErrorCode.InvalidEncoding,
    ],
    [
      'JSON missing a field',
      () => putBytes(good.key, JSON.stringify({ ...recordToJson(make(alice)), public: undefined }), 'application/json'),
      400,
      ErrorCode.InvalidRecord,
    ],
    [
      'an unsupported media type',
      () => putBytes(good.key, encodeRecord(make(alice)), 'text/plain'),
      415,
      ErrorCode.UnsupportedMediaType,
    ],
    [
      'no media type',
      () => edge(`/v1/records${good.key}`, { method: 'PUT', body: encodeRecord(make(alice)) }),
      415,
      ErrorCode.UnsupportedMediaType,
    ],
  ]

  it.each(cases)('%s', async (_, send, status, code) => {
    const before = await snapshot()
    await expectError(await send(), status, code)
    expect(await snapshot()).toEqual(before)
    expect(before.search).toEqual([good.key])
  })
})

describe('bad reads and queries', () => {
  const someone = generateIdentity().did
  const keyCursor = btoa('nope')
  const cases: [string, string, number, ErrorCode][] = [
    ['a record key outside the namespace', `/v1/records/other/profile/${someone}`, 400, ErrorCode.InvalidKey],
    ['an unknown record kind in a key', `/v1/records/vivim/wallet/${someone}`, 400, ErrorCode.InvalidKey],
    ['a record nobody wrote', `/v1/records/vivim/profile/${someone}`, 404, ErrorCode.NotFound],
    ['a search without q', '/v1/search', 400, ErrorCode.InvalidQuery],
    ['a search with no words', '/v1/search?q=%22*%20()%20-', 400, ErrorCode.InvalidQuery],
    [
      'a search text too long',
      `/v1/search?q=${'a'.repeat(Limits.maxSearchQueryBytes + 1)}`,
      400,
      ErrorCode.InvalidQuery,
    ],
    [
      'a search with too many words',
      `/v1/search?q=${Array.from({ length: Limits.maxSearchTerms + 1 }, (_, i) => `w${i}`).join('+')}`,
      400,
      ErrorCode.InvalidQuery,
    ],
    ['a limit beyond the maximum', `/v1/search?q=a&limit=${Limits.maxPageSize + 1}`, 400, ErrorCode.InvalidLimit],
    ['a limit of zero', '/v1/search?q=a&limit=0', 400, ErrorCode.InvalidLimit],
    ['a limit that is not a number', '/v1/search?q=a&limit=ten', 400, ErrorCode.InvalidLimit],
    ['a negative limit', '/v1/search?q=a&limit=-1', 400, ErrorCode.InvalidLimit],
    ['an unknown kind', '/v1/search?q=a&kind=wallet', 400, ErrorCode.UnknownKind],
    ['a malformed cursor', `/v1/search?q=a&cursor=${keyCursor}`, 400, ErrorCode.InvalidCursor],
    [
      'a discovery cursor given to search',
      `/v1/search?q=a&cursor=${encodeKeyCursor('x')}`,
      400,
      ErrorCode.InvalidCursor,
    ],
    [
      'an over-long cursor',
      `/v1/search?q=a&cursor=${'A'.repeat(Limits.maxCursorBytes + 1)}`,
      400,
      ErrorCode.InvalidCursor,
    ],
    ['a listing without an author', '/v1/records', 400, ErrorCode.InvalidQuery],
    ['a listing by something that is not a DID', '/v1/records?author=alice', 400, ErrorCode.InvalidDid],
    ['a listing of an unknown kind', `/v1/records?author=${someone}&kind=wallet`, 400, ErrorCode.UnknownKind],
    ['a listing limit beyond the maximum', `/v1/records?author=${someone}&limit=1000`, 400, ErrorCode.InvalidLimit],
    [
      'a search cursor given to a listing',
      `/v1/records?author=${someone}&cursor=${encodeSearchCursor([{ rank: -1, id: 1 }])}`,
      400,
      ErrorCode.InvalidCursor,
    ],
  ]

  it.each(cases)('%s', async (_, path, status, code) => {
    await expectError(await edge(path), status, code)
  })
})

describe('refused provider announcements change nothing stored', () => {
  const PEER = '12D3KooW9pUQdmE58XE1LnjngZx1JxtnP81vj7WuvJGiYdc88eHW'
  const key = formatRecordKey({ kind: 'document', owner: alice.did, name: 'shared' })
  const post = (path: string, body: string, type = 'application/json') =>
    edge(path, { method: 'POST', body, headers: { 'Content-Type': type } })
  const cases: [string, () => Promise<Response>, number, ErrorCode][] = [
    [
      'a peer that is neither a DID nor a peer id',
      () => post(`/v1/providers${key}`, '{"peer":"alice"}'),
      400,
      ErrorCode.InvalidProvider,
    ],
    [
      'a multiaddr that is not one',
      () => post(`/v1/providers${key}`, JSON.stringify({ peer: PEER, multiaddrs: ['/ip4/1.2.3.4/tcp/99999'] })),
      400,
      ErrorCode.InvalidProvider,
    ],
    [
      'a ttl past 24 hours',
      () => post(`/v1/providers${key}`, JSON.stringify({ peer: PEER, ttl: 86_401 })),
      400,
      ErrorCode.InvalidProvider,
    ],
    ['malformed JSON', () => post(`/v1/providers${key}`, '{"peer"'), 400, ErrorCode.InvalidEncoding],
    [
      'a body that is not JSON',
      () => post(`/v1/providers${key}`, PEER, 'text/plain'),
      415,
      ErrorCode.UnsupportedMediaType,
    ],
    [
      'a key outside the namespace',
      () => post(`/v1/providers/other/x/${alice.did}`, JSON.stringify({ peer: PEER })),
      400,
      ErrorCode.InvalidKey,
    ],
    [
      'a read-only credential',
      () => post(`/v1/providers${key}?token=dev:read`, JSON.stringify({ peer: PEER })),
      403,
      ErrorCode.Forbidden,
    ],
  ]

  it.each(cases)('%s', async (_, send, status, code) => {
    await expectError(await send(), status, code)
    const res = await edge(`/v1/providers${key}`)
    expect(((await res.json()) as { providers: unknown[] }).providers).toEqual([])
  })
})
