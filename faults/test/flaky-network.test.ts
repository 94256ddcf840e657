/**
 * The SDK on a flaky network (`flaky-proxy.ts`: seeded delays and cuts
 * between the SDK and the edge). Three document providers edit one document
 * and a subscriber follows a topic through the proxy, while a publisher
 * writes to the edge directly. Once the network heals: the documents
 * converge on every write, the subscriber has received every message once
 * and in order, and each provider reports `synced` holding exactly what the
 * edge holds; on the way, the providers reported the outages as `offline`.
 */
import { generateIdentity } from '@vivim/shared'
import { afterAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { VivimDocProvider } from '../../client/src/doc-provider.ts'
import type { SyncState } from '../../client/src/sync-state.ts'
import { VivimClient } from '../../client/src/vivim-client.ts'
import { seeded } from '../../scripts/seeded-random.ts'
import { type RunningEdge, startEdge } from '../../scripts/test-edge.ts'
import { FlakyProxy } from './flaky-proxy.ts'

const SEEDS = [5, 8]
const WRITES = 30
const MESSAGES = 40

/** Resolves once `check` holds, polling; throws after `guardMs` with `what` (a hang guard, not a speed limit). */
async function until(what: string, check: () => boolean, guardMs = 90_000): Promise<void> {
  const deadline = Date.now() + guardMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('the SDK on a flaky network', () => {
  const cleanups: (() => Promise<void> | void)[] = []
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup()
  })

  for (const seed of SEEDS) {
    it(`converges and delivers every message once, in order (seed ${seed})`, async () => {
      const random = seeded(seed)
      const edge: RunningEdge = await startEdge()
      cleanups.push(() => edge.stop())
      const proxy = await FlakyProxy.start(edge.port, { seed, cutChance: 0.03, maxDelayMs: 30 })
      cleanups.push(() => proxy.close())
      const ws = proxy.url.replace(/^http/, 'ws')

      const docId = `flaky-${seed}`
      const providers = [0, 1, 2].map(() => new VivimDocProvider(ws, docId, new Y.Doc()))
      const states = providers.map((p) => {
        const seen: SyncState[] = []
        p.state.on((s) => seen.push(s))
        return seen
      })
      cleanups.push(() => {
        for (const p of providers) p.destroy()
      })

      const owner = new VivimClient({ edge: edge.url, identity: generateIdentity() })
      const topic = `public:flaky:${seed}`
      cleanups.push(owner.subscribe(topic, () => {}))
      const received: { cursor: number; id: string }[] = []
      const reader = new VivimClient({ edge: proxy.url })
      cleanups.push(reader.subscribe(topic, (m) => received.push({ cursor: m.cursor, id: m.id }), { cursor: 0 }))

      const published: string[] = []
      const publishing = (async () => {
        for (let n = 0; n < MESSAGES; n++) {
          for (;;) {
            try {
              published.push((await owner.publish(topic, `m${n}`)).id)
              break
            } catch {
              await sleep(50) // the topic may not exist yet: its owner's subscription creates it
            }
          }
          await sleep(Math.floor(random() * 40))
        }
      })()
      const writing = providers.map(async (p, i) => {
        for (let n = 0; n < WRITES; n++) {
          p.doc.getMap('m').set(`p${i}-${n}`, n)
          await sleep(10 + Math.floor(random() * 60))
        }
      })
      await Promise.all([publishing, ...writing])
      proxy.heal()

      const expected = WRITES * providers.length
      await until('every provider synced with every write', () =>
        providers.every((p) => p.state.value === 'synced' && p.doc.getMap('m').size === expected),
      )
      await until('every message', () => received.length >= MESSAGES)
      await sleep(200) // a duplicate, if any, would arrive after the last message

      const direct = new VivimDocProvider(edge.url.replace(/^http/, 'ws'), docId, new Y.Doc())
      cleanups.push(() => direct.destroy())
      await until('a direct reader synced', () => direct.state.value === 'synced')
      const atEdge = direct.doc.getMap('m').toJSON()
      expect(Object.keys(atEdge)).toHaveLength(expected)
      for (const p of providers) expect(p.doc.getMap('m').toJSON()).toEqual(atEdge)

      expect(received.map((m) => m.id)).toEqual(published)
      const cursors = received.map((m) => m.cursor)
      expect(cursors).toEqual([...cursors].sort((a, b) => a - b))

      // The network really was flaky, and the SDK said so.
      expect(proxy.cuts).toBeGreaterThan(0)
      expect(states.flat()).toContain('offline')
    })
  }
})
