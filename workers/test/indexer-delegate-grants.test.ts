/**
 * A delegate's record write at the indexer: the grant must hold when the
 * edge receives the write (not only at the timestamp the delegate signed),
 * and a tombstone needs the grant's `delete` right.
 */
import {
  type Action,
  type Capability,
  createRecord,
  ErrorCode,
  formatRecordKey,
  generateIdentity,
  type Identity,
  issueCapability,
} from '@vivim/shared'
import { describe, expect, it } from 'vitest'
import { getRecord, put } from './indexer-client.ts'

const alice = generateIdentity()
const bob = generateIdentity()
const HOUR = 3_600_000
const text = (s: string) => new TextEncoder().encode(s)
const TOMBSTONE = new Uint8Array(0)

const freshKey = (name: string) =>
  formatRecordKey({ kind: 'post', owner: alice.did, name: `${name}-${crypto.randomUUID()}` })

const grant = (key: string, can: Action[], window: { nbf: number; exp: number }) =>
  issueCapability(alice, { aud: bob.did, res: `record:${key}`, can, nbf: window.nbf, exp: window.exp, prf: [] })

const write = (author: Identity, key: string, value: Uint8Array, timestamp: number, cap?: Capability) =>
  put(createRecord(author, { key, value, timestamp, ...(cap ? { cap } : {}) }))

async function refusal(res: Response): Promise<{ status: number; code: string }> {
  return { status: res.status, code: ((await res.json()) as { error: { code: string } }).error.code }
}

describe('a delegate whose grant has expired', () => {
  it('is refused with token_expired for a record backdated into the old window, while a current grant still writes', async () => {
    const key = freshKey('expired')
    const now = Date.now()
    // Valid for an hour that ended a minute ago: the record claims a time inside it.
    const expired = grant(key, ['write'], { nbf: now - 2 * HOUR, exp: now - 60_000 })
    const backdated = now - HOUR
    expect(await refusal(await write(bob, key, text('after the grant ended'), backdated, expired))).toEqual({
      status: 401,
      code: ErrorCode.TokenExpired,
    })
    expect(await getRecord(key, { 'Cache-Control': 'no-cache' })).toBeNull()
    const current = grant(key, ['write'], { nbf: now - HOUR, exp: now + HOUR })
    expect((await write(bob, key, text('in time'), Date.now(), current)).status).toBe(201)
    expect((await getRecord(key, { 'Cache-Control': 'no-cache' }))?.author).toBe(bob.did)
  })

  it('is refused for a grant not yet valid when it arrives, even with a timestamp inside its window', async () => {
    const key = freshKey('early')
    const now = Date.now()
    // Starts in two minutes: a record dated three minutes ahead is within the clock skew and inside the window.
    const early = grant(key, ['write'], { nbf: now + 2 * 60_000, exp: now + HOUR })
    expect(await refusal(await write(bob, key, text('too early'), now + 3 * 60_000, early))).toEqual({
      status: 401,
      code: ErrorCode.TokenNotYetValid,
    })
  })
})

describe('a tombstone by a delegate', () => {
  const window = () => ({ nbf: Date.now() - HOUR, exp: Date.now() + HOUR })

  it('is refused with forbidden under a grant that allows write but not delete, and the record stays', async () => {
    const key = freshKey('write-only')
    const writeOnly = grant(key, ['write'], window())
    expect((await write(bob, key, text('kept'), Date.now() - 1000, writeOnly)).status).toBe(201)
    expect(await refusal(await write(bob, key, TOMBSTONE, Date.now(), writeOnly))).toEqual({
      status: 403,
      code: ErrorCode.Forbidden,
    })
    expect(new TextDecoder().decode((await getRecord(key, { 'Cache-Control': 'no-cache' }))?.value)).toBe('kept')
  })

  it('is stored under a grant that allows delete, as the owner’s own tombstone needs none', async () => {
    const key = freshKey('deleter')
    expect((await write(alice, key, text('to delete'), Date.now() - 2000)).status).toBe(201)
    const deleter = grant(key, ['delete'], window())
    expect((await write(bob, key, TOMBSTONE, Date.now() - 1000, deleter)).status).toBe(200)
    expect((await getRecord(key, { 'Cache-Control': 'no-cache' }))?.value.length).toBe(0)
    const ownKey = freshKey('owner')
    expect((await write(alice, ownKey, text('mine'), Date.now() - 1000)).status).toBe(201)
    expect((await write(alice, ownKey, TOMBSTONE, Date.now())).status).toBe(200)
  })
})
