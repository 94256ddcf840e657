import { rmSync } from 'node:fs'
import {
  encodeCapabilityText,
  generateIdentity,
  type Identity,
  identityFromSecretKey,
  issueCapability,
} from '@vivim/shared'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningEdge, startEdge } from '../../scripts/test-edge.ts'
import { openStorage } from '../src/storage.ts'
import { startBridge, tempDir, waitFor } from './helpers.ts'

const EDGE_SEED = new Uint8Array(32).fill(9)
const edgeKey = identityFromSecretKey(EDGE_SEED)

async function linked(edge: RunningEdge, peer: string): Promise<boolean> {
  const { bridges } = (await (await fetch(`${edge.url}/v1/bridge/peers`)).json()) as { bridges: { peer: string }[] }
  return bridges.some((b) => b.peer === peer)
}

/** The DID a bridge with this data directory will have (its key is made on first open). */
async function bridgeDid(dataDir: string): Promise<string> {
  const storage = await openStorage({ dataDir })
  await storage.close()
  return storage.identity.did
}

function grant(issuer: Identity, aud: string): string {
  return encodeCapabilityText(
    issueCapability(issuer, { aud, res: 'bridge', can: ['write'], exp: Date.now() + 3_600_000 }),
  )
}

describe('a bridge at an edge that is not in development mode', () => {
  let edge: RunningEdge
  const dirs: string[] = []
  beforeAll(async () => {
    edge = await startEdge({
      vars: { VIVIM_ENV: 'production', EDGE_SECRET_KEY: Buffer.from(EDGE_SEED).toString('base64url') },
    })
  }, 180_000)
  afterAll(async () => {
    await edge?.stop()
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  })

  it('links with a grant the edge issued to its DID, and is refused (and keeps retrying) without one', async () => {
    const [granted, bare, forged] = [tempDir(), tempDir(), tempDir()]
    dirs.push(granted, bare, forged)
    const good = await startBridge({
      dataDir: granted,
      edgeUrl: edge.url,
      edgeTokens: [grant(edgeKey, await bridgeDid(granted))],
    })
    const none = await startBridge({ dataDir: bare, edgeUrl: edge.url })
    const wrong = await startBridge({
      dataDir: forged,
      edgeUrl: edge.url,
      edgeTokens: [grant(generateIdentity(), await bridgeDid(forged))],
    })
    try {
      await waitFor('the granted bridge is linked', () => linked(edge, good.peerId.toString()))
      expect(good.link?.state).toBe('open')
      await waitFor(
        'the others were refused twice',
        () => (none.link?.retries ?? 0) >= 2 && (wrong.link?.retries ?? 0) >= 2,
      )
      expect(await linked(edge, none.peerId.toString())).toBe(false)
      expect(await linked(edge, wrong.peerId.toString())).toBe(false)
    } finally {
      await Promise.all([good.stop(), none.stop(), wrong.stop()])
    }
  })
})
