/**
 * The federation hubs that strangers name (one per signing key for nonces,
 * one per address for the discovery budget) sweep themselves: lapsed rows
 * go at an alarm, and an object left holding nothing deletes its storage,
 * yet still works when it is named again.
 */
import { env, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { nonceHub, rateHub } from '../federation/hub.ts'

/** The user tables an object's SQLite holds. */
const tables = (stub: DurableObjectStub) =>
  runInDurableObject(stub, (_, state) =>
    state.storage.sql
      .exec<{ name: string }>(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\'",
      )
      .toArray()
      .map((r) => r.name),
  )

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('self-sweeping federation hubs', () => {
  it('a nonce hub deletes its storage once every nonce lapsed, and still refuses a replay after', async () => {
    const keyid = `did:key:z6MkSweep${crypto.randomUUID()}`
    const stub = nonceHub(env, keyid)
    expect(await stub.firstUse(keyid, 'nonce-lapsing', Date.now() + 5)).toBe(true)
    await pause(20)
    // The runtime may have run the alarm already; if not, it runs now.
    await runDurableObjectAlarm(stub)
    expect(await tables(stub)).toEqual([])
    const until = Date.now() + 60_000
    expect(await stub.firstUse(keyid, 'nonce-next', until)).toBe(true)
    expect(await stub.firstUse(keyid, 'nonce-next', until)).toBe(false)
  })

  it('keeps a nonce that is still fresh: its sweep is set for when it lapses', async () => {
    const keyid = `did:key:z6MkFresh${crypto.randomUUID()}`
    const stub = nonceHub(env, keyid)
    const until = Date.now() + 60_000
    expect(await stub.firstUse(keyid, 'nonce-fresh', until)).toBe(true)
    const alarm = await runInDurableObject(stub, (_, state) => state.storage.getAlarm())
    expect(alarm).toBe(until)
    expect(await stub.firstUse(keyid, 'nonce-fresh', until)).toBe(false)
  })

  it('a caller’s rate hub deletes its storage once its window has passed', async () => {
    const stub = rateHub(env, `198.51.100.${Math.floor(Math.random() * 250)}-${crypto.randomUUID()}`)
    expect(await stub.take(1, 5)).toBe(true)
    await pause(20)
    // The runtime may have run the alarm already; if not, it runs now.
    await runDurableObjectAlarm(stub)
    expect(await tables(stub)).toEqual([])
    expect(await stub.take(1, 60_000)).toBe(true)
    expect(await stub.take(1, 60_000)).toBe(false)
  })
})
