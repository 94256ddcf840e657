/**
 * `FederationHub`: the links between this instance's topics and documents
 * and its peers (`link-table.ts`), and the revocations it passed on
 * (`passed-revocations.ts`), which are what federation agreed to and must
 * keep, not caches.
 *
 *   `topic:<name>`, `doc:<id>`   one object per resource holds its links:
 *                                every stored message or flush asks its
 *                                resource's, so a busy topic never queues
 *                                behind the rest of the instance;
 *   `hub`                        the instance's list of every link: asked when
 *                                a link is new, a peer lost its state, or for
 *                                status, never per message or revocation;
 *   `revocations:<i>`            16 shards of the revocations passed on, each
 *                                with a copy of the linked peers
 *                                (`revocation-fanout.ts`): a stored revocation
 *                                asks only its shard.
 *
 * The roles that strangers can name are Durable Object classes of their own
 * (a class per role, so each object holds one role's table and no name of
 * one role can reach another's storage): the discovery cache per domain
 * (`descriptor-cache.ts`), nonces per signing key (`nonce-ledger.ts`),
 * discovery budgets per address (`rate-window.ts`). Each sweeps itself.
 * The two roles here share a class because the instance's list and the
 * revocations are read together (`recovery.ts`); each object makes a
 * store's table on its first write (`role-storage.ts`), so a resource's
 * object holds only links, and one no peer federates holds nothing.
 *
 * @example
 * ```ts
 * if (await linkPeer(env, 'topic', 'circle:messages:c1', 'b.example', 'peer')) { ... } // a new link
 * await linksOf(env, 'topic', 'circle:messages:c1') // [{ peer: 'b.example', role: 'peer' }]
 * ```
 */
import { DurableObject } from 'cloudflare:workers'
import { ActivityType } from '@vivim/shared'
import { federationConfig } from './config.ts'
import { descriptorCache } from './descriptor-cache.ts'
import { enqueue } from './enqueue.ts'
import { type Link, type LinkKind, type LinkRole, LinkTable } from './link-table.ts'
import { PassedRevocations } from './passed-revocations.ts'
import { type HeldRevocation, peerLinked, RevocationPeers } from './revocation-fanout.ts'
import { LazyStore } from './role-storage.ts'

export type { CachedDiscovery } from './descriptor-cache.ts'
export type { LinkKind, LinkRole } from './link-table.ts'
export { nonceHub } from './nonce-ledger.ts'
export { rateHub } from './rate-window.ts'

/** Tables this class held when every role shared it; their roles live in classes of their own now. */
const RETIRED_TABLES = ['descriptors', 'nonces', 'rate']

export class FederationHub extends DurableObject<Env> {
  private readonly linkTable: LazyStore<LinkTable>
  private readonly passed: LazyStore<PassedRevocations>
  private readonly revocationPeers: LazyStore<RevocationPeers>

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    const { sql } = ctx.storage
    // Caches and nonces kept here before the upgrade: they lapse within minutes, and nothing reads them now.
    for (const table of RETIRED_TABLES) sql.exec(`DROP TABLE IF EXISTS ${table}`)
    this.linkTable = new LazyStore(sql, 'links', (s) => new LinkTable(s))
    this.passed = new LazyStore(sql, 'passed_revocations', (s) => new PassedRevocations(s))
    this.revocationPeers = new LazyStore(sql, 'revocation_peers', (s) => new RevocationPeers(s))
  }

  /** Records a link here; true if it is new (use `linkPeer`, which keeps the instance's list too). */
  link(kind: LinkKind, name: string, peer: string, role: LinkRole): boolean {
    return this.linkTable.writing().link(kind, name, peer, role)
  }

  /** On the instance's hub: records a link, and says whether it is the peer's first with this instance. */
  linkForInstance(kind: LinkKind, name: string, peer: string, role: LinkRole): boolean {
    const first = (this.linkTable.reading?.with(peer).length ?? 0) === 0
    return this.linkTable.writing().link(kind, name, peer, role) && first
  }

  /** On a revocation shard: null if `id` was passed on already, else the linked peers (it is held as pending). */
  async revocationOut(id: string, revocation: Uint8Array, token: Uint8Array): Promise<string[] | null> {
    if (this.passed.reading?.has(id)) return null
    const peers = await this.seededRevocationPeers()
    peers.pend(id, revocation, token, Date.now())
    return peers.peers()
  }

  /** On a revocation shard: every outbox took revocation `id`. */
  revocationPassed(id: string, revocation: Uint8Array, token: Uint8Array): void {
    this.passed.writing().mark(id, revocation, token, Date.now())
    this.revocationPeers.reading?.settle(id)
  }

  /** On a revocation shard: lists a peer new to the instance; what it holds is that peer's catch-up. */
  async addRevocationPeer(peer: string): Promise<HeldRevocation[]> {
    ;(await this.seededRevocationPeers()).add(peer)
    return this.heldRevocations()
  }

  /**
   * A shard's peers, seeded on its first use from the instance's hub: peers linked before the
   * revocations had shards are listed too (once per shard; later peers arrive with their first link).
   */
  private async seededRevocationPeers(): Promise<RevocationPeers> {
    if (this.revocationPeers.reading) return this.revocationPeers.reading
    const linked = await federationHub(this.env).linkedPeers()
    const peers = this.revocationPeers.writing()
    for (const peer of linked) peers.add(peer)
    return peers
  }

  /** On a revocation shard: the revocations passed on, then those pending. */
  heldRevocations(): HeldRevocation[] {
    return [...(this.passed.reading?.all() ?? []), ...(this.revocationPeers.reading?.pending() ?? [])]
  }

  /** The peers linked to a topic or document, with their roles. */
  links(kind: LinkKind, name: string): { peer: string; role: LinkRole }[] {
    return this.linkTable.reading?.of(kind, name) ?? []
  }

  /** Every peer linked to anything: the instances that federate some resource with this one. */
  linkedPeers(): string[] {
    return this.linkTable.reading?.peers() ?? []
  }

  /** The links one peer has with this instance (on the instance's hub, which lists them all). */
  linksWith(peer: string): Omit<Link, 'peer'>[] {
    return this.linkTable.reading?.with(peer) ?? []
  }

  /** Whether a revocation was passed on already. */
  passedOn(id: string): boolean {
    return this.passed.reading?.has(id) ?? false
  }

  /** Marks a revocation as passed on, once the outboxes hold it. */
  markPassed(id: string, revocation: Uint8Array, token: Uint8Array): void {
    this.passed.writing().mark(id, revocation, token, Date.now())
  }

  /** Every revocation passed on, oldest first. */
  passedRevocations(): { revocation: Uint8Array; token: Uint8Array }[] {
    return this.passed.reading?.all() ?? []
  }

  /**
   * Links, and which of the peers and linked instances have a current
   * discovery cached, for the development status page. Each domain's cache
   * is its own object, so only the domains this instance knows are asked.
   */
  async summary(): Promise<{ links: Link[]; discovered: string[] }> {
    const links = this.linkTable.reading?.all() ?? []
    const domains = new Set([...(federationConfig(this.env)?.peers ?? []), ...links.map((l) => l.peer)])
    const cached = await Promise.all(
      [...domains].map(async (d) => ((await descriptorCache(this.env, d).discovery(d))?.descriptor ? d : null)),
    )
    return { links, discovered: cached.filter((d) => d !== null) }
  }

  /**
   * Only objects that held nonces or a budget before those roles had classes
   * of their own have an alarm: one that holds no link or revocation
   * deletes its storage, as it would have once its nonces lapsed.
   */
  override async alarm(): Promise<void> {
    const held =
      (this.linkTable.reading?.count() ?? 0) +
      (this.passed.reading?.count() ?? 0) +
      (this.revocationPeers.reading?.count() ?? 0)
    if (held > 0) return
    await this.ctx.storage.deleteAll()
    this.linkTable.forget()
    this.passed.forget()
    this.revocationPeers.forget()
  }
}

/** The instance's hub: the list of every link, and the revocations passed on. */
export function federationHub(env: Env): DurableObjectStub<FederationHub> {
  return env.FEDERATION_HUB.getByName('hub')
}

/**
 * The object that answers one topic's or document's links. Every stored
 * message asks for its topic's links, so each resource has its own object
 * and a busy topic never queues behind the rest of the instance.
 */
function linksHub(env: Env, kind: LinkKind, name: string): DurableObjectStub<FederationHub> {
  return env.FEDERATION_HUB.getByName(`${kind}:${name}`)
}

/** Links a peer to a topic or document; true if the link is new (only then is the instance's hub asked). */
export async function linkPeer(env: Env, kind: LinkKind, name: string, peer: string, role: LinkRole): Promise<boolean> {
  const isNew = await linksHub(env, kind, name).link(kind, name, peer, role)
  // A peer's first link: every revocation shard lists it, and it is sent what they already passed on.
  if (isNew && (await federationHub(env).linkForInstance(kind, name, peer, role))) {
    for (const held of await peerLinked(env, peer)) await enqueue(env, peer, { t: ActivityType.Revocation, ...held })
  }
  return isNew
}

/** The peers linked to a topic or document. */
export function linksOf(env: Env, kind: LinkKind, name: string): Promise<{ peer: string; role: LinkRole }[]> {
  return linksHub(env, kind, name).links(kind, name)
}
