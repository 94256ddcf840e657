import { env, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { formatRecordKey, generateIdentity, Limits, type ProviderEntry } from '@vivim/shared'
import { describe, expect, it } from 'vitest'
import { shardFor } from '../indexer/shards.ts'
import { edge } from './indexer-client.ts'

const PEER = '12D3KooW9pUQdmE58XE1LnjngZx1JxtnP81vj7WuvJGiYdc88eHW'
const ADDRS = ['/ip4/203.0.113.7/tcp/4001', `/dns4/relay.example.com/tcp/443/wss/p2p/${PEER}`]

const freshKey = () => formatRecordKey({ kind: 'document', owner: generateIdentity().did, name: 'doc' })

function announce(key: string, body: unknown, token?: string): Promise<Response> {
  const query = token === undefined ? '' : `?token=${encodeURIComponent(token)}`
  return edge(`/v1/providers${key}${query}`, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'Content-Type': 'application/json' },
  })
}

async function listed(key: string): Promise<ProviderEntry[]> {
  const res = await edge(`/v1/providers${key}`)
  expect(res.status).toBe(200)
  const body = (await res.json()) as { key: string; providers: ProviderEntry[] }
  expect(body.key).toBe(key)
  return body.providers
}

/** Moves every announcement of `key` into the past, as if its time had run out. */
async function expire(key: string): Promise<void> {
  await runInDurableObject(shardFor(env, key), (_, state) => {
    state.storage.sql.exec('UPDATE providers SET expires_at = ? WHERE key = ?', Date.now() - 1, key)
  })
}

async function storedRows(key: string): Promise<number> {
  return runInDurableObject(shardFor(env, key), (_, state) => {
    return state.storage.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM providers WHERE key = ?', key).one().n
  })
}

describe('providers', () => {
  it('a peer id with multiaddrs and a did:key are announced and listed, with their expiry', async () => {
    const key = freshKey()
    const did = generateIdentity().did
    const before = Date.now()
    const res = await announce(key, { peer: PEER, multiaddrs: ADDRS, ttl: 3600 })
    expect(res.status).toBe(201)
    const entry = (await res.json()) as ProviderEntry & { key: string }
    expect(entry).toMatchObject({ key, peer: PEER, multiaddrs: ADDRS })
    expect(entry.expiresAt).toBeGreaterThanOrEqual(before + 3_600_000)
    expect(entry.expiresAt).toBeLessThanOrEqual(Date.now() + 3_600_000)
    expect((await announce(key, { peer: did })).status).toBe(201)
    const providers = await listed(key)
    expect(providers.map((p) => p.peer)).toEqual([did, PEER])
    expect(providers[0]?.multiaddrs).toEqual([])
  })

  it('announcing again renews the entry instead of adding one', async () => {
    const key = freshKey()
    await announce(key, { peer: PEER, multiaddrs: ADDRS.slice(0, 1), ttl: 60 })
    await announce(key, { peer: PEER, multiaddrs: ADDRS.slice(1), ttl: 7200 })
    const providers = await listed(key)
    expect(providers).toHaveLength(1)
    expect(providers[0]?.multiaddrs).toEqual(ADDRS.slice(1))
  })

  it('an expired announcement is never listed, and the alarm deletes it', async () => {
    const key = freshKey()
    const other = freshKey()
    await announce(key, { peer: PEER, ttl: 60 })
    await announce(other, { peer: PEER, ttl: 60 })
    await expire(key)
    expect(await listed(key)).toEqual([])
    expect(await storedRows(key)).toBe(1)
    expect(await runDurableObjectAlarm(shardFor(env, key))).toBe(true)
    expect(await storedRows(key)).toBe(0)
    expect(await listed(other)).toHaveLength(1)
  })

  it('a key keeps at most the limit of providers: a new one replaces the one that expires soonest', async () => {
    const key = freshKey()
    const peers = Array.from({ length: Limits.maxProvidersPerKey }, () => generateIdentity().did)
    for (const [i, peer] of peers.entries()) {
      expect((await announce(key, { peer, ttl: 2000 + i })).status).toBe(201)
    }
    const newcomer = generateIdentity().did
    expect((await announce(key, { peer: newcomer, ttl: 1000 })).status).toBe(201)
    const providers = (await listed(key)).map((p) => p.peer)
    expect(providers).toHaveLength(Limits.maxProvidersPerKey)
    expect(providers).toContain(newcomer)
    expect(providers).not.toContain(peers[0])
    expect(providers).toContain(peers[1])
    expect(await storedRows(key)).toBe(Limits.maxProvidersPerKey)
  })
})
