/**
 * Records and the libp2p mesh (through linked bridges): looked up on a
 * local miss and told about local writes. Wired in by `extension.ts`.
 *
 * Each bridge's link is an object of its own (`bridge-link.ts`); which are
 * live comes from this isolate's copy of the registry's list
 * (`live-links.ts`, asked at most once per isolate per `LINKS_TTL_MS`). A
 * write or an announcement goes to every live link's object; a lookup asks
 * them all at once, and the first verified record wins. With no bridge
 * linked, a lookup is a miss at once and a write costs no call. A link that
 * answers that its bridge has left is dropped from the copy and from the
 * registry.
 *
 * @example
 * ```ts
 * const bytes = await findRecordViaBridges(env, '/vivim/profile/did:key:z…') // verified bytes or null
 * await recordStoredForBridges(env, bytes) // every linked bridge puts it in the DHT
 * ```
 */
import type { ProviderAnnouncement } from '@vivim/shared'
import type { BridgePeer, LinkAnswer } from './bridge-link.ts'
import { registryOf } from './link-registry.ts'
import { liveLinks } from './live-links.ts'

type LinkEnv = Pick<Env, 'BRIDGE_LINK' | 'BRIDGE_REGISTRY' | 'RECORDS'>
type Link = DurableObjectStub<import('./bridge-link.ts').BridgeLink>

/** A link found gone: forgotten here and in the registry (best effort: another caller forgets it too). */
function forget(env: LinkEnv, name: string): void {
  liveLinks.dropped(name)
  registryOf(env)
    .remove(name)
    .catch(() => {})
}

/**
 * Asks every live link at once; `settled` sees each answer as it comes (a
 * link that fails counts as one that has nothing). Resolves once all have
 * answered, or when `settled` says the answer is found.
 */
async function askEveryLink<T>(
  env: LinkEnv,
  ask: (link: Link) => Promise<LinkAnswer<T>>,
  settled: (value: T) => boolean = () => false,
): Promise<T[]> {
  const names = await liveLinks.list(env)
  const values: T[] = []
  let left = names.length
  if (left === 0) return values
  return new Promise((resolve) => {
    for (const name of names) {
      ask(env.BRIDGE_LINK.getByName(name))
        .then(
          (answer) => {
            if (!answer.linked) forget(env, name)
            else {
              values.push(answer.value)
              if (settled(answer.value)) resolve(values)
            }
          },
          () => {},
        )
        .finally(() => {
          if (--left === 0) resolve(values)
        })
    }
  })
}

/** Verified canonical bytes of the key's record from the mesh, or `null` (within `BridgeLimits.findTimeoutMs`). */
export async function findRecordViaBridges(env: LinkEnv, key: string): Promise<Uint8Array | null> {
  const found = await askEveryLink(
    env,
    (link) => link.findRecord(key),
    (bytes) => bytes !== null,
  )
  return found.find((bytes) => bytes !== null) ?? null
}

/** Called after a record is stored at this edge: each linked bridge puts it in the DHT. */
export async function recordStoredForBridges(env: LinkEnv, bytes: Uint8Array): Promise<void> {
  await askEveryLink(env, (link) => link.recordStored(bytes))
}

/** Called after a provider announcement is stored at this edge (`POST /v1/providers/<key>`). */
export async function providerAnnouncedForBridges(
  env: LinkEnv,
  key: string,
  announcement: ProviderAnnouncement,
): Promise<void> {
  await askEveryLink(env, (link) => link.providerAnnounced(key, announcement))
}

/** The bridges linked to this edge and the multiaddrs they listen on (for peers that need a bootstrap list). */
export async function linkedBridges(env: LinkEnv): Promise<{ peer: string; addrs: string[] }[]> {
  const peers = await askEveryLink(env, (link) => link.peer())
  return peers.filter((p): p is BridgePeer => p !== null).map(({ peer, addrs }) => ({ peer, addrs: [...addrs] }))
}
