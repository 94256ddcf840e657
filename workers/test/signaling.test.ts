import { CloseCode, ErrorCode, Limits } from '@vivim/shared'
import { describe, expect, it } from 'vitest'
import { SignalingPeer } from './signaling-peer.ts'
import { withoutUpgrade } from './socket-peer.ts'

describe('WebRTC signaling', () => {
  it('peers in one room see each other’s announcements, and nothing from rooms they did not join', async () => {
    const room = `room-${crypto.randomUUID()}`
    const a = await SignalingPeer.connect()
    const b = await SignalingPeer.connect()
    const outsider = await SignalingPeer.connect()
    a.send({ type: 'subscribe', topics: [room] })
    b.send({ type: 'subscribe', topics: [room] })
    outsider.send({ type: 'subscribe', topics: [`${room}-other`] })
    a.send({ type: 'ping' })
    await a.until(() => a.frames.some((m) => m.type === 'pong'))
    b.send({ type: 'ping' })
    await b.until(() => b.frames.some((m) => m.type === 'pong'))
    a.announce(room, 'peer-a')
    b.announce(room, 'peer-b')
    await a.until(() => a.announcementsFrom('peer-b').length === 1)
    await b.until(() => b.announcementsFrom('peer-a').length === 1)
    expect(b.announcementsFrom('peer-a')[0]).toEqual({
      type: 'publish',
      topic: room,
      data: { type: 'announce', from: 'peer-a' },
    })
    const signal = { type: 'signal', from: 'peer-b', to: 'peer-a', token: 1, signal: { type: 'offer', sdp: 'v=0' } }
    b.send({ type: 'publish', topic: room, data: signal })
    await a.until(() => a.announcementsFrom('peer-b').length === 2)
    outsider.announce(`${room}-other`, 'peer-o')
    await outsider.until(() => outsider.announcementsFrom('peer-o').length === 1)
    expect(outsider.frames.filter((m) => m.topic === room)).toEqual([])
    expect(a.announcementsFrom('peer-o')).toEqual([])
  })

  it('stops relaying a room to a peer that unsubscribed', async () => {
    const room = `room-${crypto.randomUUID()}`
    const a = await SignalingPeer.connect()
    const b = await SignalingPeer.connect()
    for (const c of [a, b]) c.send({ type: 'subscribe', topics: [room] })
    b.send({ type: 'unsubscribe', topics: [room] })
    b.send({ type: 'ping' })
    await b.until(() => b.frames.some((m) => m.type === 'pong'))
    a.announce(room, 'peer-a')
    await a.until(() => a.announcementsFrom('peer-a').length === 1)
    // The hub relays in order, so once b hears itself in a room it joined after a's announcement, it would have had it.
    const later = `${room}-later`
    b.send({ type: 'subscribe', topics: [later] })
    b.announce(later, 'peer-b-after')
    await b.until(() => b.announcementsFrom('peer-b-after').length === 1)
    expect(b.announcementsFrom('peer-a')).toEqual([])
  })

  it.each([
    [
      'topics that are not a list',
      (c: SignalingPeer) => c.send({ type: 'subscribe', topics: 'x' }),
      CloseCode.BadFrame,
    ],
    ['a message that is a JSON array', (c: SignalingPeer) => c.send('[{"type":"ping"}]'), CloseCode.BadFrame],
    [
      'too many rooms',
      (c: SignalingPeer) =>
        c.send({ type: 'subscribe', topics: Array.from({ length: Limits.maxSignalingTopics + 1 }, (_, i) => `r${i}`) }),
      CloseCode.BadFrame,
    ],
  ])('closes on %s, and others keep signaling', async (_, offend, code) => {
    const room = `room-${crypto.randomUUID()}`
    const offender = await SignalingPeer.connect()
    const a = await SignalingPeer.connect()
    a.send({ type: 'subscribe', topics: [room] })
    offend(offender)
    expect((await offender.closedWith()).code).toBe(code)
    a.announce(room, 'peer-a')
    await a.until(() => a.announcementsFrom('peer-a').length === 1)
  })

  it('answers 426 without an upgrade', async () => {
    expect(await withoutUpgrade('/v1/signaling')).toEqual({ status: 426, code: ErrorCode.UpgradeRequired })
  })
})
