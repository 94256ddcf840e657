/**
 * A small client of the indexer's routes for tests inside workerd: signed
 * records built with real identities, sent through the edge's real fetch
 * handler, and the error shape checked the way a client would switch on it.
 */
import { exports } from 'cloudflare:workers'
import {
  type ContentRecord,
  createRecord,
  decodeRecord,
  type ErrorCode,
  encodeRecord,
  formatRecordKey,
  type Identity,
  type RecordJson,
  type RecordKind,
} from '@vivim/shared'
import { expect } from 'vitest'

export const EDGE = 'http://edge.test'

export function edge(path: string, init?: RequestInit): Promise<Response> {
  return exports.default.fetch(new Request(`${EDGE}${path}`, init))
}

export function recordPath(key: string): string {
  return `/v1/records${key}`
}

export function signed(
  author: Identity,
  kind: RecordKind,
  value: unknown,
  options: { name?: string; timestamp?: number; public?: boolean } = {},
): ContentRecord {
  const key = formatRecordKey(
    options.name === undefined ? { kind, owner: author.did } : { kind, owner: author.did, name: options.name },
  )
  const bytes = value instanceof Uint8Array ? value : new TextEncoder().encode(JSON.stringify(value))
  return createRecord(author, {
    key,
    value: bytes,
    timestamp: options.timestamp ?? Date.now(),
    public: options.public ?? true,
  })
}

export function putBytes(key: string, body: Uint8Array | string, type = 'application/cbor'): Promise<Response> {
  return edge(recordPath(key), { method: 'PUT', body, headers: { 'Content-Type': type } })
}

export function put(record: ContentRecord): Promise<Response> {
  return putBytes(record.key, encodeRecord(record))
}

export async function putOk(record: ContentRecord): Promise<void> {
  const res = await put(record)
  if (res.status !== 200 && res.status !== 201) throw new Error(`PUT ${record.key}: ${res.status} ${await res.text()}`)
}

export async function get(key: string, headers: Record<string, string> = {}): Promise<Response> {
  return edge(recordPath(key), { headers })
}

/** The record GET answers for `key` (CBOR), or null on 404. */
export async function getRecord(key: string, headers: Record<string, string> = {}): Promise<ContentRecord | null> {
  const res = await get(key, headers)
  if (res.status === 404) return null
  expect(res.status).toBe(200)
  return decodeRecord(new Uint8Array(await res.arrayBuffer()))
}

export interface SearchPage {
  results: { key: string; kind: string; author: string; timestamp: number; score: number; record: RecordJson }[]
  cursor: string | null
}

export async function searchPage(params: Record<string, string>): Promise<SearchPage> {
  const res = await edge(`/v1/search?${new URLSearchParams(params)}`)
  expect(res.status).toBe(200)
  return (await res.json()) as SearchPage
}

export async function searchKeys(q: string, extra: Record<string, string> = {}): Promise<string[]> {
  return (await searchPage({ q, ...extra })).results.map((r) => r.key)
}

export async function expectError(res: Response, status: number, code: ErrorCode): Promise<void> {
  expect(res.status).toBe(status)
  expect(res.headers.get('content-type')).toMatch(/^application\/json/)
  const body = (await res.json()) as { error: { code: string; message: string } }
  expect(Object.keys(body)).toEqual(['error'])
  expect(body.error.code).toBe(code)
  expect(body.error.message.length).toBeGreaterThan(0)
}

/** A word no other test uses, so tests sharing the shards never see each other's records. */
export function uniqueWord(): string {
  return `w${crypto.randomUUID().replaceAll('-', '')}`
}
