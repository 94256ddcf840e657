import { env, runInDurableObject } from 'cloudflare:test'
import { createDescriptor, generateIdentity } from '@vivim/shared'
import { describe, expect, it } from 'vitest'
import { descriptorCache } from '../federation/descriptor-cache.ts'
import { federationHub, nonceHub, rateHub } from '../federation/hub.ts'

const hub = () => federationHub(env)
/** Each domain's discovery is cached by an object of its own, each signing key's nonces too. */
const cache = (domain: string) => descriptorCache(env, domain)
const nonces = (keyid: string) => nonceHub(env, keyid)

describe('FederationHub', () => {
  it('caches a discovery until it lapses, and a failure for a bounded time', async () => {
    const { descriptor } = createDescriptor(generateIdentity(), {
      domain: 'cached.example',
      version: '1',
      capabilities: [],
      peers: [],
    })
    await cache('cached.example').discovered('cached.example', descriptor)
    expect((await cache('cached.example').discovery('cached.example'))?.descriptor?.did).toBe(descriptor.did)
    await cache('down.example').failed('down.example', 'connection_failed', 'no answer')
    expect(await cache('down.example').discovery('down.example')).toEqual({
      descriptor: null,
      error: 'no answer',
      code: 'connection_failed',
    })
    // A failure is answered from the cache with the code it first failed with.
    await cache('forged.example').failed('forged.example', 'invalid_descriptor', 'signed by another key')
    expect((await cache('forged.example').discovery('forged.example'))?.code).toBe('invalid_descriptor')
    // Both lifetimes end: once past them, the hub says "ask again".
    for (const domain of ['cached.example', 'down.example']) {
      await runInDurableObject(cache(domain), (_, state) => {
        state.storage.sql.exec('UPDATE descriptors SET until = ?', Date.now() - 1)
      })
    }
    expect(await cache('cached.example').discovery('cached.example')).toBeNull()
    expect(await cache('down.example').discovery('down.example')).toBeNull()
  })

  it('accepts a nonce once while it is fresh, and forgets it after', async () => {
    const until = Date.now() + 60_000
    expect(await nonces('did:key:z6Mk1').firstUse('did:key:z6Mk1', 'nonce-1', until)).toBe(true)
    expect(await nonces('did:key:z6Mk1').firstUse('did:key:z6Mk1', 'nonce-1', until)).toBe(false)
    expect(await nonces('did:key:z6Mk2').firstUse('did:key:z6Mk2', 'nonce-1', until)).toBe(true)
    await runInDurableObject(nonces('did:key:z6Mk1'), (_, state) => {
      state.storage.sql.exec('UPDATE nonces SET until = ?', Date.now() - 1)
    })
    expect(await nonces('did:key:z6Mk1').firstUse('did:key:z6Mk1', 'nonce-1', until)).toBe(true)
  })

  it('links a peer once, and keeps each revocation passed on once', async () => {
    expect(await hub().link('topic', 'public:news:x', 'b.example', 'peer')).toBe(true)
    expect(await hub().link('topic', 'public:news:x', 'b.example', 'peer')).toBe(false)
    expect(await hub().links('topic', 'public:news:x')).toEqual([{ peer: 'b.example', role: 'peer' }])
    expect(await hub().passedOn('rev-1')).toBe(false)
    await hub().markPassed('rev-1', new Uint8Array([1]), new Uint8Array([2]))
    await hub().markPassed('rev-1', new Uint8Array([1]), new Uint8Array([2]))
    expect(await hub().passedOn('rev-1')).toBe(true)
    expect(await hub().passedRevocations()).toEqual([{ revocation: new Uint8Array([1]), token: new Uint8Array([2]) }])
  })

  it('counts a caller’s requests in a sliding window: refused past the limit, counted again once they age out', async () => {
    const caller = rateHub(env, '198.51.100.1')
    const taken: boolean[] = []
    for (let i = 0; i < 4; i++) taken.push(await caller.take(3, 60_000))
    expect(taken).toEqual([true, true, true, false])
    // Another caller has a budget of its own.
    expect(await rateHub(env, '198.51.100.2').take(3, 60_000)).toBe(true)
    // A refused request was not counted: once the counted ones are older than the window, three pass again.
    await runInDurableObject(caller, (_, state) => {
      state.storage.sql.exec('UPDATE rate SET at = ?', Date.now() - 60_001)
    })
    expect([await caller.take(3, 60_000), await caller.take(3, 60_000), await caller.take(3, 60_000)]).toEqual([
      true,
      true,
      true,
    ])
    expect(await caller.take(3, 60_000)).toBe(false)
  })
})
