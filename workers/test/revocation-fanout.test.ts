import { env, runInDurableObject } from 'cloudflare:test'
import {
  type Activity,
  ActivityType,
  createRevocation,
  decodeActivity,
  encodeCapability,
  encodeRevocation,
  generateIdentity,
  issueCapability,
} from '@vivim/shared'
import { describe, expect, it } from 'vitest'
import { revocationStored } from '../federation/hooks.ts'
import { linkPeer } from '../federation/hub.ts'
import { laneOf, outboxName } from '../federation/lanes.ts'
import { passedOn, REVOCATION_SHARDS, revocationShard } from '../federation/revocation-fanout.ts'

const federating = { ...env, FEDERATION_DOMAIN: 'a.example', FEDERATION_PEERS: 'b.example' }

function revocation() {
  const alice = generateIdentity()
  const token = issueCapability(alice, {
    aud: alice.did,
    res: 'topic:public:news:fanout',
    can: ['read'],
    exp: Date.now() + 60_000,
  })
  const revoked = createRevocation(alice, token)
  return {
    id: revoked.revoke,
    revocation: new Uint8Array(encodeRevocation(revoked)),
    token: new Uint8Array(encodeCapability(token)),
  }
}

/** The revocations queued for `domain` (all revocations travel in one lane). */
async function queuedRevocations(domain: string): Promise<Activity[]> {
  const lane = laneOf({ t: ActivityType.Revocation, revocation: new Uint8Array(0), token: new Uint8Array(0) })
  const outbox = env.FEDERATION_OUTBOX.getByName(outboxName(domain, lane))
  return runInDurableObject(outbox, (_, state) => {
    const made = state.storage.sql.exec(`SELECT 1 FROM sqlite_master WHERE name = 'txs'`).toArray().length > 0
    if (!made) return []
    return state.storage.sql
      .exec<{ activity: ArrayBuffer }>('SELECT activity FROM txs ORDER BY seq')
      .toArray()
      .map((r) => decodeActivity(new Uint8Array(r.activity)))
      .filter((a) => a.t === ActivityType.Revocation)
  })
}

describe('revocations passed on through their shards', () => {
  it('reach a peer linked before and one linked after, each once, from the shard’s own list of peers', async () => {
    const peer = `c-${crypto.randomUUID().slice(0, 8)}.example`
    const first = revocation()
    await revocationStored(federating, first.revocation, first.token)
    expect(await passedOn(env, first.id)).toBe(true)

    // The peer's first link: every shard lists it, and it is sent what was passed on before.
    expect(await linkPeer(federating, 'topic', `public:news:${crypto.randomUUID()}`, peer, 'peer')).toBe(true)
    expect(await queuedRevocations(peer)).toEqual([
      { t: ActivityType.Revocation, revocation: first.revocation, token: first.token },
    ])

    // A revocation stored after the link goes to it from its shard's own list, once.
    const second = revocation()
    await revocationStored(federating, second.revocation, second.token)
    await revocationStored(federating, second.revocation, second.token)
    expect((await queuedRevocations(peer)).map((a) => a.t === ActivityType.Revocation && a.revocation)).toEqual([
      first.revocation,
      second.revocation,
    ])
    // Each shard holds its own copy of the linked peers: the second revocation's shard lists the peer.
    const listed = await runInDurableObject(revocationShard(env, second.id), (_, state) =>
      state.storage.sql
        .exec<{ peer: string }>('SELECT peer FROM revocation_peers')
        .toArray()
        .map((r) => r.peer),
    )
    expect(listed).toContain(peer)
    expect(REVOCATION_SHARDS).toBeGreaterThan(1)
  })
})
