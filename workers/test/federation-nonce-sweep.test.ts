/**
 * The federation objects that strangers name (one per signing key for
 * nonces, one per address for the discovery budget, one per domain for the
 * discovery cache) sweep themselves: lapsed rows go at an alarm, and an
 * object left holding nothing deletes its storage, yet still works when it
 * is named again. An object that is only read holds no tables at all.
 */
import { env, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { descriptorCache } from '../federation/descriptor-cache.ts'
import { federationHub, linkPeer, linksOf, nonceHub, rateHub } from '../federation/hub.ts'

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
  it('a domain’s discovery cache deletes its storage once its entry lapsed, and caches again after', async () => {
    const domain = `lapsing-${crypto.randomUUID()}.example`
    const stub = descriptorCache(env, domain)
    await stub.failed(domain, 'connection_failed', 'no answer')
    await runInDurableObject(stub, (_, state) => {
      state.storage.sql.exec('UPDATE descriptors SET until = ?', Date.now() - 1)
    })
    await runDurableObjectAlarm(stub)
    expect(await tables(stub)).toEqual([])
    expect(await stub.discovery(domain)).toBeNull()
    await stub.failed(domain, 'connection_failed', 'still no answer')
    expect((await stub.discovery(domain))?.error).toBe('still no answer')
  })

  it('an object only read holds no tables: a domain never cached, a topic no peer federates', async () => {
    const domain = `unknown-${crypto.randomUUID()}.example`
    expect(await descriptorCache(env, domain).discovery(domain)).toBeNull()
    expect(await tables(descriptorCache(env, domain))).toEqual([])
    const topic = `public:quiet:${crypto.randomUUID()}`
    expect(await linksOf(env, 'topic', topic)).toEqual([])
    expect(await tables(env.FEDERATION_HUB.getByName(`topic:${topic}`))).toEqual([])
  })

  it('a resource’s object holds its links only; the instance’s hub also the revocations passed on', async () => {
    const topic = `public:linked:${crypto.randomUUID()}`
    expect(await linkPeer(env, 'topic', topic, 'b.example', 'peer')).toBe(true)
    expect(await tables(env.FEDERATION_HUB.getByName(`topic:${topic}`))).toEqual(['links'])
    await federationHub(env).markPassed(`rev-${topic}`, new Uint8Array([1]), new Uint8Array([2]))
    expect((await tables(federationHub(env))).sort()).toEqual(['links', 'passed_revocations'])
  })

  it('a hub object that held nonces before they had a class of their own deletes its storage at its alarm', async () => {
    const stub = env.FEDERATION_HUB.getByName(`nonces:did:key:z6MkOld${crypto.randomUUID()}`)
    await runInDurableObject(stub, async (_, state) => {
      state.storage.sql.exec(`CREATE TABLE nonces (keyid TEXT, nonce TEXT, until INTEGER);
        CREATE TABLE links (kind TEXT, name TEXT, peer TEXT, role TEXT);
        INSERT INTO nonces VALUES ('did:key:z6MkOld', 'nonce-old', 1)`)
      await state.storage.setAlarm(Date.now() + 60_000)
    })
    await runDurableObjectAlarm(stub)
    expect(await tables(stub)).toEqual([])
  })
})
