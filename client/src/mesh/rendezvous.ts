/**
 * How browsers that share a document or a topic find each other: each one
 * provides the name's rendezvous key on the mesh's Kademlia DHT, through the
 * bridges (a browser is a DHT client; the bridges store provider records),
 * and looks up who else provides it. A provider record carries the peer's
 * relayed addresses, which is all another browser needs to reach it.
 *
 * The key is a CID of the SHA-256 of `vivim:mesh:<name>`: the name itself is
 * not stored, but anyone who knows it can find the peers that share it, so a
 * private name should be unguessable (a circle's id, not its title) and what
 * travels on it sealed (`@vivim/client/e2e`).
 *
 * @example
 * ```ts
 * await announce(node, 'conversation:c1')
 * for await (const peer of findPeers(node, 'conversation:c1')) console.log(peer.id.toString())
 * ```
 */
import type { PeerInfo } from '@libp2p/interface'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import type { MeshLibp2p } from './node.ts'

/** The DHT key that peers sharing `name` provide. */
export async function rendezvousKey(name: string): Promise<CID> {
  return CID.createV1(raw.code, await sha256.digest(new TextEncoder().encode(`vivim:mesh:${name}`)))
}

/** Tells the mesh this peer shares `name`. */
export async function announce(node: MeshLibp2p, name: string, signal?: AbortSignal): Promise<void> {
  await node.contentRouting.provide(await rendezvousKey(name), signal ? { signal } : {})
}

/** The other peers that share `name`, with the addresses they announced. */
export async function* findPeers(node: MeshLibp2p, name: string, signal?: AbortSignal): AsyncGenerator<PeerInfo> {
  const self = node.peerId.toString()
  const seen = new Set<string>()
  for await (const provider of node.contentRouting.findProviders(await rendezvousKey(name), signal ? { signal } : {})) {
    const id = provider.id.toString()
    if (id === self || seen.has(id)) continue
    seen.add(id)
    yield provider
  }
}
