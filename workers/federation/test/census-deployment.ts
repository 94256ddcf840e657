/**
 * The deployment the census runs against: two federated edge instances in
 * production mode (every connect needs a capability) with the census on, and
 * a libp2p bridge linked to the first with a grant from that edge's key, as
 * its operator would link it. Both the census test and `npm run bench:census`
 * start it.
 */
import { rmSync } from 'node:fs'
import { encodeCapabilityText, type Identity, issueCapability } from '@vivim/shared'
import type { VivimBridge } from '../../../node-bridge/src/bridge.ts'
import { openStorage } from '../../../node-bridge/src/storage.ts'
import { startBridge, tempDir } from '../../../node-bridge/test/helpers.ts'
import { type Instance, type InstancePlan, planInstance, startInstance, waitFor } from './instances.ts'

/** Two production-mode instances federating with each other, and a bridge linked to `a`. */
export interface CensusDeployment {
  readonly a: Instance
  readonly b: Instance
  readonly bridge: VivimBridge
  /** The bridge's identity (its DID is its libp2p key), to which topic owners grant their topics. */
  readonly bridgeIdentity: Identity
  stop(): Promise<void>
}

const HOUR = 3_600_000

/** What makes an instance count and ask for tokens: production mode with the census on. */
export const CENSUS_VARS = { VIVIM_ENV: 'production', VIVIM_CENSUS: 'on' } as const

/** A grant from `issuer` to `audience` on `resource`, in its text form (what a bridge is given). */
export function grantText(issuer: Identity, audience: string, resource: string, can: ('read' | 'write')[]): string {
  return encodeCapabilityText(issueCapability(issuer, { aud: audience, res: resource, can, exp: Date.now() + HOUR }))
}

async function startFederating(plan: InstancePlan, peer: InstancePlan): Promise<Instance> {
  return startInstance(plan, { ...CENSUS_VARS, FEDERATION_PEERS: peer.domain })
}

/**
 * Starts both instances and the bridge; `bridgeTopics` are the topics the bridge joins, with the
 * grants their owners gave it (`grants(bridgeDid)`). Everything started is stopped if a later part fails.
 */
export async function startCensusDeployment(
  bridgeTopics: readonly string[] = [],
  grants: (bridgeDid: string) => string[] = () => [],
): Promise<CensusDeployment> {
  const [planA, planB] = await Promise.all([planInstance(), planInstance()])
  const started = await Promise.allSettled([startFederating(planA, planB), startFederating(planB, planA)])
  const instances = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []))
  const dataDir = tempDir('vivim-census-bridge-')
  const stopAll = async (bridge?: VivimBridge) => {
    await bridge?.stop()
    await Promise.all(instances.map((i) => i.edge.stop()))
    rmSync(dataDir, { recursive: true, force: true })
  }
  const failed = started.find((s) => s.status === 'rejected')
  if (failed) {
    await stopAll()
    throw failed.reason
  }
  const [a, b] = instances as [Instance, Instance]
  let bridge: VivimBridge | undefined
  try {
    // The bridge's key is made when its data directory is first opened: its DID is known before it starts.
    const storage = await openStorage({ dataDir })
    await storage.close()
    const bridgeIdentity = storage.identity
    const link = grantText(a.identity, bridgeIdentity.did, 'bridge', ['write'])
    bridge = await startBridge({
      dataDir,
      edgeUrl: a.url,
      edgeTokens: [link, ...grants(bridgeIdentity.did)],
      topics: [...bridgeTopics],
    })
    const peer = bridge.peerId.toString()
    await waitFor('the bridge linked to A', async () => ((await linkedPeers(a)).includes(peer) ? true : undefined))
    const running = bridge
    return { a, b, bridge: running, bridgeIdentity, stop: () => stopAll(running) }
  } catch (error) {
    await stopAll(bridge)
    throw error
  }
}

/** The peer ids of the bridges linked to an instance. */
async function linkedPeers(at: { url: string }): Promise<string[]> {
  const { bridges } = (await (await fetch(`${at.url}/v1/bridge/peers`)).json()) as { bridges: { peer: string }[] }
  return bridges.map((b) => b.peer)
}
