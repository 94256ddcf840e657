/**
 * Bridge links spread over objects: each bridge's link in a `BridgeLink` of
 * its own, the registry of live links, and each isolate's copy of it.
 */
import { env, runInDurableObject } from 'cloudflare:test'
import { exports } from 'cloudflare:workers'
import {
  BridgeFrameType,
  CloseCode,
  createRevocation,
  ErrorCode,
  encodeBridgeFrame,
  encodeCanonical,
  encodeCapability,
  encodeRecord,
  encodeRevocation,
  generateIdentity,
  Limits,
  type Settled,
} from '@vivim/shared'
import { describe, expect, it } from 'vitest'
import { LINKS_KV_KEY, MAX_LINKS, registryOf } from '../bridge/link-registry.ts'
import { LINKS_TTL_MS, LiveLinks, liveLinks } from '../bridge/live-links.ts'
import { findRecordViaBridges, recordStoredForBridges } from '../bridge/records.ts'
import { connectRequest } from '../relay/room-headers.ts'
import { bridgeGrant, bridgeToken, edge, FakeBridge, record } from './bridge-peer.ts'
import { EDGE, refusal } from './socket-peer.ts'

const listed = () => registryOf(env).list()

/** Links `count` bridges one after the other; each with the link name the registry added for it. */
async function linkBridges(count: number, answer?: Parameters<typeof FakeBridge.connect>[1]) {
  const linked: { bridge: FakeBridge; name: string }[] = []
  for (let i = 0; i < count; i++) {
    const before = new Set(await listed())
    const bridge = await FakeBridge.connect('', answer)
    const name = (await listed()).find((n) => !before.has(n)) as string
    linked.push({ bridge, name })
  }
  return linked
}

const socketsOf = (name: string) =>
  runInDurableObject(env.BRIDGE_LINK.getByName(name), (_, state) => state.getWebSockets().length)

const refusedWith = (settled: Settled<void>) => (settled.ok ? null : settled.code)

describe('bridge links', () => {
  it('two bridges linked land in two objects, and a record stored reaches both', async () => {
    const [one, two] = await linkBridges(2)
    if (!one || !two) throw new Error('two links')
    expect(one.name).not.toBe(two.name)
    expect(one.name).toMatch(/^link:/)
    expect(await socketsOf(one.name)).toBe(1)
    expect(await socketsOf(two.name)).toBe(1)
    const { record: r } = record(generateIdentity(), 'stored twice')
    await recordStoredForBridges(env, encodeRecord(r))
    for (const { bridge } of [one, two]) {
      await bridge.until(() => bridge.frames.some((f) => f.t === BridgeFrameType.Put))
      expect(bridge.frames.find((f) => f.t === BridgeFrameType.Put)).toEqual({
        t: BridgeFrameType.Put,
        r: encodeRecord(r),
      })
    }
    one.bridge.close()
    two.bridge.close()
  })

  it('a find that the first bridge lacks is answered by the second', async () => {
    const { key, record: r } = record(generateIdentity(), 'only the second has it')
    const [lacking] = await linkBridges(1, (frame, bridge) => {
      if (frame.t === BridgeFrameType.Find)
        bridge.send(encodeBridgeFrame({ t: BridgeFrameType.Found, id: frame.id, r: null }))
    })
    const [holding] = await linkBridges(1, (frame, bridge) => {
      if (frame.t === BridgeFrameType.Find)
        bridge.send(encodeBridgeFrame({ t: BridgeFrameType.Found, id: frame.id, r: encodeRecord(r) }))
    })
    if (!lacking || !holding) throw new Error('two links')
    expect(await findRecordViaBridges(env, key)).toEqual(encodeRecord(r))
    expect(lacking.bridge.frames.some((f) => f.t === BridgeFrameType.Find && f.key === key)).toBe(true)
    lacking.bridge.close()
    holding.bridge.close()
  })

  it('a revoked bridge token closes its link, and the registry forgets the link', async () => {
    const bridge = generateIdentity()
    const grant = bridgeGrant(edge, bridge)
    const before = new Set(await listed())
    const linked = await FakeBridge.connect(`?token=${bridgeToken(edge, bridge, ['write'], grant)}`)
    const name = (await listed()).find((n) => !before.has(n)) as string
    expect(name).toBeDefined()
    const body = encodeCanonical({
      revocation: encodeRevocation(createRevocation(edge, grant)),
      token: encodeCapability(grant),
    })
    expect((await exports.default.fetch(new Request(`${EDGE}/v1/revocations`, { method: 'POST', body }))).status).toBe(
      200,
    )
    expect((await linked.closedWith()).code).toBe(CloseCode.Unauthorized)
    while ((await listed()).includes(name)) await socketsOf(name)
    expect(await socketsOf(name)).toBe(0)
  })

  it('a link whose bridge is gone without a close is dropped by the next write that reaches it', async () => {
    const ghost = `link:${crypto.randomUUID()}`
    expect((await registryOf(env).add(ghost, null)).ok).toBe(true)
    liveLinks.added(ghost)
    await recordStoredForBridges(env, encodeRecord(record(generateIdentity(), 'to nobody').record))
    expect(await liveLinks.list(env)).not.toContain(ghost)
    while ((await listed()).includes(ghost)) await listed()
    expect(await listed()).not.toContain(ghost)
  })

  it('an isolate asks the registry once per interval, however many ask meanwhile', async () => {
    let asked = 0
    const registry = { list: async () => [`link:${++asked}`] }
    // KV never written: the registry answers (and would publish).
    const fake = {
      BRIDGE_REGISTRY: { getByName: () => registry },
      RECORDS: { get: async () => null },
    } as unknown as Pick<Env, 'BRIDGE_REGISTRY' | 'RECORDS'>
    const links = new LiveLinks()
    const t = 1_000_000
    const first = await Promise.all([links.list(fake, t), links.list(fake, t), links.list(fake, t + 5)])
    expect(asked).toBe(1)
    expect(first).toEqual([['link:1'], ['link:1'], ['link:1']])
    expect(await links.list(fake, t + LINKS_TTL_MS - 1)).toEqual(['link:1'])
    expect(asked).toBe(1)
    links.added('link:new')
    expect(await links.list(fake, t + 1)).toEqual(['link:1', 'link:new'])
    expect(await links.list(fake, t + LINKS_TTL_MS)).toEqual(['link:2'])
    expect(asked).toBe(2)
  })

  it('isolates read the live links from KV, where the registry publishes them, and never ask the registry then', async () => {
    const name = `link:${crypto.randomUUID()}`
    expect((await registryOf(env).add(name, null)).ok).toBe(true)
    expect(await env.RECORDS.get<string[]>(LINKS_KV_KEY, 'json')).toContain(name)
    const registry = { list: async () => expect.unreachable('the registry is asked') as never }
    const fake = { BRIDGE_REGISTRY: { getByName: () => registry }, RECORDS: env.RECORDS } as unknown as Pick<
      Env,
      'BRIDGE_REGISTRY' | 'RECORDS'
    >
    expect(await new LiveLinks().list(fake)).toContain(name)
    await registryOf(env).remove(name)
    expect(await env.RECORDS.get<string[]>(LINKS_KV_KEY, 'json')).not.toContain(name)
  })

  it('a link made while the registry is being asked stays listed', async () => {
    let release: (names: string[]) => void = () => {}
    let asked: () => void = () => {}
    const askedYet = new Promise<void>((resolve) => (asked = resolve))
    const registry = {
      list: () =>
        new Promise<string[]>((resolve) => {
          release = resolve
          asked()
        }),
    }
    const fake = {
      BRIDGE_REGISTRY: { getByName: () => registry },
      RECORDS: { get: async () => null },
    } as unknown as Pick<Env, 'BRIDGE_REGISTRY' | 'RECORDS'>
    const links = new LiveLinks()
    const loading = links.list(fake, 0)
    links.added('link:meanwhile')
    await askedYet
    release(['link:old'])
    expect((await loading).sort()).toEqual(['link:meanwhile', 'link:old'])
  })
})

describe('bridge links: bad input', () => {
  it('a link object takes only the upgrades the Worker hands over', async () => {
    const link = env.BRIDGE_LINK.getByName(`link:${crypto.randomUUID()}`)
    const plain = await link.fetch(new Request('https://link.internal/connect'))
    expect(plain.status).toBe(400)
    expect(((await plain.json()) as { error: { code: string } }).error.code).toBe(ErrorCode.BadRequest)
    const name = `link:${crypto.randomUUID()}`
    const access = { did: null, canRead: true, canWrite: true, exp: null, tokens: [], newOwner: null }
    const taken = env.BRIDGE_LINK.getByName(name)
    const first = await taken.fetch(connectRequest(name, access))
    expect(first.status).toBe(101)
    first.webSocket?.accept()
    const second = await taken.fetch(connectRequest(name, access))
    second.webSocket?.accept()
    const closed = await new Promise<number>((resolve) =>
      second.webSocket?.addEventListener('close', (e) => resolve(e.code)),
    )
    expect(closed).toBe(4409)
    first.webSocket?.close(1000, 'done')
  })

  it('one identity holds at most its share of links, and the edge at most MAX_LINKS', async () => {
    const did = generateIdentity().did
    const registry = registryOf(env)
    const mine = Array.from({ length: Limits.maxSocketsPerIdentity }, () => `link:${crypto.randomUUID()}`)
    for (const name of mine) expect((await registry.add(name, did)).ok).toBe(true)
    expect(refusedWith(await registry.add(`link:${crypto.randomUUID()}`, did))).toBe(ErrorCode.RateLimited)
    const others = Array.from({ length: MAX_LINKS - (await listed()).length }, () => `link:${crypto.randomUUID()}`)
    for (const name of others) expect((await registry.add(name, null)).ok).toBe(true)
    expect(refusedWith(await registry.add(`link:${crypto.randomUUID()}`, null))).toBe(ErrorCode.RateLimited)
    // A bridge that would pass the bound is refused at the upgrade, with the registry's reason.
    expect(await refusal(`/v1/bridge?token=${bridgeToken(edge, generateIdentity())}`)).toEqual({
      status: 429,
      code: ErrorCode.RateLimited,
    })
    for (const name of [...mine, ...others]) await registry.remove(name)
    expect(await listed()).toEqual(expect.not.arrayContaining([...mine, ...others]))
  })
})
