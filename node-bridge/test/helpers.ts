/**
 * What the bridge tests share: bridges on 127.0.0.1 (memory or a temporary
 * data directory, no mDNS), records signed by a fresh identity, and waiting
 * on a condition with a hang guard instead of a timing threshold.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRecord, formatRecordKey, generateIdentity, type Identity } from '@vivim/shared'
import { type BridgeInit, createBridge, type VivimBridge } from '../src/bridge.ts'

export function tempDir(prefix = 'vivim-bridge-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

export function startBridge(init: Partial<BridgeInit> = {}): Promise<VivimBridge> {
  return createBridge({
    listen: ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws'],
    bootstrap: [],
    mdns: false,
    dataDir: null,
    edgeUrl: null,
    topics: [],
    edgeInitialDelayMs: 100,
    edgeMaxDelayMs: 1_000,
    ...init,
  })
}

/** The bridge's TCP address with its peer id, as a bootstrap list names it. */
export function dialAddress(bridge: VivimBridge): string {
  const tcp = bridge.multiaddrs().find((a) => !a.toString().includes('/ws'))
  if (!tcp) throw new Error('the bridge listens on no TCP address')
  return tcp.toString()
}

/** Polls `check` until it holds; throws with `what` after `guardMs` (a hang guard, not a speed limit). */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, guardMs = 45_000): Promise<void> {
  const end = Date.now() + guardMs
  while (Date.now() < end) {
    if (await check()) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`gave up waiting: ${what}`)
}

/** Polls `get` until it gives something other than `null`, and returns it (same hang guard as `waitFor`). */
export async function eventually<T>(what: string, get: () => Promise<T | null>, guardMs = 45_000): Promise<T> {
  let value: T | null = null
  await waitFor(
    what,
    async () => {
      value = await get()
      return value !== null
    },
    guardMs,
  )
  return value as T
}

export function signedRecord(author: Identity = generateIdentity(), text = 'hello', timestamp = Date.now()) {
  const key = formatRecordKey({ kind: 'profile', owner: author.did })
  return {
    author,
    key,
    record: createRecord(author, { key, value: new TextEncoder().encode(text), timestamp, public: true }),
  }
}
