import type { Server } from 'node:http'
import type { VivimBridge } from '@vivim/bridge'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import {
  call,
  launchChromium,
  openMeshPage,
  serveMeshPage,
  startMeshBridge,
  WEBRTC_ON_LOOPBACK,
} from './mesh/harness.ts'

const edge = inject('edgeUrl')
/** A hang guard, not a speed limit: two browsers, a bridge and an edge on a loaded machine. */
const GUARD_MS = 180_000
let browser: Browser
let bridge: VivimBridge
let bridgeAddress: string
let server: Server
let url: string

beforeAll(async () => {
  ;({ bridge, address: bridgeAddress } = await startMeshBridge())
  ;({ server, url } = await serveMeshPage())
  browser = await launchChromium(WEBRTC_ON_LOOPBACK)
}, 120_000)

afterAll(async () => {
  await browser?.close()
  await bridge?.stop()
  server?.close()
})

describe('the browser peer in two Chromium pages', () => {
  it(
    'the pages find each other through a bridge, upgrade to WebRTC, converge a document and get a Gossipsub message once though it also came from the edge',
    async () => {
      const name = `notes:${crypto.randomUUID()}`
      const alice = await openMeshPage(browser, url, { bridges: [bridgeAddress], edge })
      const bob = await openMeshPage(browser, url, { bridges: [bridgeAddress], edge })
      const topic = `user:updates:${await call(bob.page, 'did')}`
      // Bob's updates are his; Alice reads them at the edge on his grant (on the mesh, anyone subscribed does).
      await call(
        alice.page,
        'addGrant',
        await call(bob.page, 'grantRead', `topic:${topic}`, await call(alice.page, 'did')),
      )
      await call(alice.page, 'subscribe', topic)
      await call(bob.page, 'subscribe', topic)
      await call(alice.page, 'join', name)
      await call(alice.page, 'insert', 'from Alice. ')
      // Bob finds Alice by the document's rendezvous key on the bridge's DHT, and dials her through its relay.
      await call(bob.page, 'join', name)
      await expect.poll(() => call(bob.page, 'path', alice.id), { timeout: 60_000 }).toBe('webrtc')
      expect(await call(alice.page, 'path', bob.id)).toBe('webrtc')

      await call(bob.page, 'insert', 'from Bob.')
      await expect.poll(() => call(alice.page, 'text')).toContain('from Bob.')
      expect(await call(bob.page, 'text')).toBe(await call(alice.page, 'text'))

      const id = await call(bob.page, 'publish', topic, 'hello over the mesh')
      // Two copies reach Alice, one on Gossipsub and one from the edge: one is handed on, the other dropped.
      await expect.poll(() => call(alice.page, 'duplicates'), { timeout: 30_000 }).toBe(1)
      expect(await call(alice.page, 'received')).toEqual([{ id, text: 'hello over the mesh', via: expect.any(String) }])
      await call(alice.page, 'stop')
      await call(bob.page, 'stop')
    },
    GUARD_MS,
  )
})

describe('the browser peer when WebRTC fails', () => {
  it(
    'the pages keep the relayed connection, say so, and still converge a document and exchange a Gossipsub message',
    async () => {
      const name = `notes:${crypto.randomUUID()}`
      const topic = `public:mesh:${crypto.randomUUID()}`
      // ICE may use TURN only, and there is none: every upgrade fails, as behind a network that blocks UDP.
      const alice = await openMeshPage(browser, url, { bridges: [bridgeAddress], blockWebRTC: true })
      const bob = await openMeshPage(browser, url, { bridges: [bridgeAddress], blockWebRTC: true })
      await call(alice.page, 'subscribe', topic)
      await call(bob.page, 'subscribe', topic)
      await call(alice.page, 'join', name)
      await call(alice.page, 'insert', 'from Alice. ')
      await call(bob.page, 'join', name)

      await expect.poll(() => call(bob.page, 'text'), { timeout: 60_000 }).toBe('from Alice. ')
      expect(await call(bob.page, 'path', alice.id)).toBe('relay')
      expect(await call(bob.page, 'errors')).toContainEqual(expect.stringContaining(`no WebRTC to ${alice.id}`))
      expect(await call(bob.page, 'paths')).toContainEqual({ peer: alice.id, path: 'relay' })

      await call(bob.page, 'insert', 'from Bob.')
      await expect.poll(() => call(alice.page, 'text')).toBe('from Alice. from Bob.')
      const id = await call(bob.page, 'publish', topic, 'through the relay')
      await expect.poll(() => call(alice.page, 'received')).toEqual([{ id, text: 'through the relay', via: 'mesh' }])
      expect(await call(alice.page, 'path', bob.id)).toBe('relay')
      await call(alice.page, 'stop')
      await call(bob.page, 'stop')
    },
    GUARD_MS,
  )
})
