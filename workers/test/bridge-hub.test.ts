import { env } from 'cloudflare:test'
import { exports } from 'cloudflare:workers'
import {
  BridgeFrameType,
  CloseCode,
  ErrorCode,
  encodeBridgeFrame,
  encodeCanonical,
  encodeRecord,
  generateIdentity,
} from '@vivim/shared'
import { describe, expect, it } from 'vitest'
import { findRecordViaBridges, recordStoredForBridges } from '../bridge/records.ts'
import { DEV_READ_ONLY_TOKEN } from '../http/access.ts'
import { bridgeToken, edge, FakeBridge, PEER, record } from './bridge-peer.ts'
import { EDGE, refusal, withoutUpgrade } from './socket-peer.ts'

describe('the bridge hub (/v1/bridge)', () => {
  it('is reached over a WebSocket only', async () => {
    expect(await withoutUpgrade('/v1/bridge')).toEqual({ status: 426, code: ErrorCode.UpgradeRequired })
  })

  it('admits a bridge whose grant the edge issued, and refuses grants from anyone else or read-only ones', async () => {
    const bridge = generateIdentity()
    const linked = await FakeBridge.connect(`?token=${bridgeToken(edge, bridge)}`)
    expect(linked.closed).toBeNull()
    expect((await refusal(`/v1/bridge?token=${bridgeToken(generateIdentity(), bridge)}`)).status).toBe(403)
    expect((await refusal(`/v1/bridge?token=${bridgeToken(edge, bridge, ['read'])}`)).status).toBe(403)
    expect((await refusal(`/v1/bridge?token=${DEV_READ_ONLY_TOKEN}`)).status).toBe(403)
    linked.close()
  })

  it('lists the linked bridges with the multiaddrs they announced', async () => {
    const linked = await FakeBridge.connect()
    let bridges: { peer: string; addrs: string[] }[] = []
    while (!bridges.some((b) => b.peer === PEER)) {
      bridges = ((await (await exports.default.fetch(`${EDGE}/v1/bridge/peers`)).json()) as { bridges: typeof bridges })
        .bridges
    }
    expect(bridges.find((b) => b.peer === PEER)?.addrs).toEqual(['/ip4/127.0.0.1/tcp/4001'])
    linked.close()
  })

  it('closes a bridge that sends text, junk or the hub’s own frames, and serves the others on', async () => {
    for (const [send, code] of [
      [(b: FakeBridge) => b.send('hello'), CloseCode.UnsupportedData],
      [(b: FakeBridge) => b.send(new Uint8Array([0xff, 0x00])), CloseCode.BadFrame],
      [(b: FakeBridge) => b.send(encodeCanonical({ t: 'put', r: new Uint8Array(1) })), CloseCode.BadFrame],
      [(b: FakeBridge) => b.send(encodeCanonical({ t: 'hello', peer: 'nobody', addrs: [] })), CloseCode.BadFrame],
      [
        (b: FakeBridge) => b.send(encodeCanonical({ t: 'prov', key: '/not/a/key', peer: PEER, addrs: [], ttl: 60 })),
        CloseCode.BadFrame,
      ],
    ] as const) {
      const offender = await FakeBridge.connect()
      send(offender)
      expect((await offender.closedWith()).code).toBe(code)
    }
    const { key, record: r } = record(generateIdentity(), 'still served')
    const good = await FakeBridge.connect('', (frame, bridge) => {
      if (frame.t === BridgeFrameType.Find)
        bridge.send(encodeBridgeFrame({ t: BridgeFrameType.Found, id: frame.id, r: encodeRecord(r) }))
    })
    expect(await findRecordViaBridges(env, key)).toEqual(encodeRecord(r))
    good.close()
  })

  it('a find is a miss at once with no bridge, and a forged or misplaced answer is a miss', async () => {
    const alice = generateIdentity()
    const { key, record: r } = record(alice, 'real')
    expect(await findRecordViaBridges(env, key)).toBeNull()
    const forged = encodeRecord({ ...r, value: new TextEncoder().encode('forged') })
    const other = encodeRecord(record(generateIdentity(), 'another key').record)
    for (const answer of [forged, other, null]) {
      const liar = await FakeBridge.connect('', (frame, bridge) => {
        if (frame.t === BridgeFrameType.Find)
          bridge.send(encodeBridgeFrame({ t: BridgeFrameType.Found, id: frame.id, r: answer }))
      })
      expect(await findRecordViaBridges(env, key)).toBeNull()
      liar.close()
      await liar.closedWith()
    }
  })

  it('a record stored at the edge is pushed to every linked bridge', async () => {
    const one = await FakeBridge.connect()
    const two = await FakeBridge.connect()
    const { record: r } = record(generateIdentity(), 'stored')
    await recordStoredForBridges(env, encodeRecord(r))
    for (const b of [one, two]) {
      await b.until(() => b.frames.some((f) => f.t === BridgeFrameType.Put))
      expect(b.frames.find((f) => f.t === BridgeFrameType.Put)).toEqual({ t: BridgeFrameType.Put, r: encodeRecord(r) })
    }
    one.close()
    two.close()
  })

  it('a provider a bridge saw in the mesh is listed by the edge', async () => {
    const { key } = record(generateIdentity(), 'provided')
    const linked = await FakeBridge.connect()
    linked.send(
      encodeBridgeFrame({ t: BridgeFrameType.Provider, key, peer: PEER, addrs: ['/ip4/127.0.0.1/tcp/9'], ttl: 60 }),
    )
    let providers: { peer: string }[] = []
    while (!providers.some((p) => p.peer === PEER)) {
      providers = (
        (await (await exports.default.fetch(`${EDGE}/v1/providers${key}`)).json()) as { providers: typeof providers }
      ).providers
    }
    expect(linked.closed).toBeNull()
    linked.close()
  })

  it('a provider announced at the edge (POST /v1/providers) is passed to every linked bridge', async () => {
    const { key } = record(generateIdentity(), 'announced here')
    const linked = await FakeBridge.connect()
    const announced = await exports.default.fetch(`${EDGE}/v1/providers${key}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ peer: PEER, multiaddrs: ['/ip4/127.0.0.1/tcp/7'], ttl: 90 }),
    })
    expect(announced.status).toBe(201)
    await linked.until(() => linked.frames.some((f) => f.t === BridgeFrameType.Provider))
    expect(linked.frames.find((f) => f.t === BridgeFrameType.Provider)).toEqual({
      t: BridgeFrameType.Provider,
      key,
      peer: PEER,
      addrs: ['/ip4/127.0.0.1/tcp/7'],
      ttl: 90,
    })
    linked.close()
  })
})
