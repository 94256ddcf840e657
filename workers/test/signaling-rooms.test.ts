/**
 * Signaling spread out: each signaling room is an object of its own
 * (`SignalingRoom`), each identity's sockets lease from an object of their
 * own (`SignalingLeases`), and the Worker between them carries one client
 * socket's many rooms. What an object holds is read inside it
 * (`runInDurableObject`): its accepted sockets are the links and leases.
 */
import { env, runInDurableObject } from 'cloudflare:test'
import { CloseCode, encodeCapabilityText, generateIdentity, type Identity } from '@vivim/shared'
import { describe, expect, it } from 'vitest'
import { invoke } from './doc-tokens.ts'
import { SignalingPeer } from './signaling-peer.ts'

/** How many links the object of room `name` holds. */
const links = (name: string) =>
  runInDurableObject(env.SIGNALING_ROOM.getByName(name), (_, state) => state.getWebSockets().length)

/** How many leases the object of identity `did` holds. */
const leases = (did: string) =>
  runInDurableObject(env.SIGNALING_LEASES.getByName(did), (_, state) => state.getWebSockets().length)

/** A signaling socket of `who` allowed in `who`'s own profile room. */
async function profilePeer(who: Identity): Promise<SignalingPeer> {
  const room = `profile:${who.did}`
  const peer = await SignalingPeer.connect(encodeCapabilityText(invoke(who, `doc:${room}`, ['read'])))
  peer.send({ type: 'subscribe', topics: [room] })
  await peer.joinedAs(room, who.did)
  return peer
}

describe('signaling rooms', () => {
  it('serves two rooms by two objects, each holding its own members, and one socket in both hears both', async () => {
    const [one, two] = [`one-${crypto.randomUUID()}`, `two-${crypto.randomUUID()}`]
    const both = await SignalingPeer.connect()
    const a = await SignalingPeer.connect()
    const b = await SignalingPeer.connect()
    both.send({ type: 'subscribe', topics: [one, two] })
    a.send({ type: 'subscribe', topics: [one] })
    b.send({ type: 'subscribe', topics: [two] })
    await both.joinedAs(two, 'both')
    await a.joinedAs(one, 'a-joined')
    await b.joinedAs(two, 'b-joined')
    a.announce(one, 'peer-a')
    b.announce(two, 'peer-b')
    await both.until(
      () => both.announcementsFrom('peer-a').length === 1 && both.announcementsFrom('peer-b').length === 1,
    )
    expect(both.announcementsFrom('peer-a')[0]).toMatchObject({ type: 'publish', topic: one })
    expect(both.announcementsFrom('peer-b')[0]).toMatchObject({ type: 'publish', topic: two })
    expect(a.announcementsFrom('peer-b')).toEqual([])
    expect(b.announcementsFrom('peer-a')).toEqual([])
    // One object would hold all four links; each room's holds its two members'.
    expect(await links(one)).toBe(2)
    expect(await links(two)).toBe(2)
  })

  it('opens one link per room however often a socket subscribes to it', async () => {
    const room = `again-${crypto.randomUUID()}`
    const peer = await SignalingPeer.connect()
    peer.send({ type: 'subscribe', topics: [room, room] })
    peer.send({ type: 'subscribe', topics: [room] })
    await peer.joinedAs(room, 'once')
    expect(peer.announcementsFrom('once')).toHaveLength(1)
    expect(await links(room)).toBe(1)
  })

  it('leases each identity’s sockets from that identity’s object', async () => {
    const [alice, bob] = [generateIdentity(), generateIdentity()]
    await profilePeer(alice)
    await profilePeer(alice)
    await profilePeer(bob)
    expect(await leases(alice.did)).toBe(2)
    expect(await leases(bob.did)).toBe(1)
  })

  it('closes a client socket 1001 when a room’s object drops its link, so the client connects again', async () => {
    const room = `dropped-${crypto.randomUUID()}`
    const peer = await SignalingPeer.connect()
    const bystander = await SignalingPeer.connect()
    peer.send({ type: 'subscribe', topics: [room] })
    bystander.send({ type: 'subscribe', topics: [`other-${room}`] })
    await peer.joinedAs(room, 'peer')
    await runInDurableObject(env.SIGNALING_ROOM.getByName(room), (_, state) => {
      for (const link of state.getWebSockets()) link.close(1012, 'restarting')
    })
    expect((await peer.closedWith()).code).toBe(CloseCode.GoingAway)
    await bystander.joinedAs(`other-${room}`, 'bystander')
    expect(bystander.closed).toBeNull()
  })

  it('closes a client socket with its lease: 4401 passed on, anything else 1001', async () => {
    const who = generateIdentity()
    const revoked = await profilePeer(who)
    await runInDurableObject(env.SIGNALING_LEASES.getByName(who.did), (_, state) => {
      for (const lease of state.getWebSockets()) lease.close(CloseCode.Unauthorized, 'the credential was revoked')
    })
    expect((await revoked.closedWith()).code).toBe(CloseCode.Unauthorized)
    const reset = await profilePeer(who)
    await runInDurableObject(env.SIGNALING_LEASES.getByName(who.did), (_, state) => {
      for (const lease of state.getWebSockets()) lease.close(1011, 'reset')
    })
    expect((await reset.closedWith()).code).toBe(CloseCode.GoingAway)
  })
})
