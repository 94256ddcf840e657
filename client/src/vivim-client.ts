/**
 * `VivimClient`: one object an app creates with its edge URL and identity,
 * for documents, topics, records and capabilities. With an identity it
 * signs its own short-lived invocation for every connection (UCAN-style),
 * with the grant it holds for a resource as proof; without one (local
 * development) it connects with the given token or none.
 *
 * @example
 * ```ts
 * const client = new VivimClient({ edge: 'http://127.0.0.1:8787', identity: me })
 * const chat = client.conversation('c1')          // a VivimDocProvider
 * const stop = client.subscribe('user:updates:' + me.did, (m) => console.log(m.text()))
 * await client.publish('user:updates:' + me.did, 'hello')
 * ```
 */
import {
  type Action,
  type Capability,
  capabilityChain,
  ErrorCode,
  encodeCapabilityText,
  type Identity,
  issueCapability,
  resourceCovers,
  type TopicEnvelope,
  type VerifiedCapability,
  VivimError,
  verifyCapability,
} from '@vivim/shared'
import * as Y from 'yjs'
import { type DocProviderInit, VivimDocProvider } from './doc-provider.ts'
import * as docsHttp from './docs-http.ts'
import { edgeUrls, request, type TokenSource } from './http.ts'
import { keepOffline } from './offline.ts'
import { RecordsClient } from './records-client.ts'
import {
  type PublishResult,
  publishEnvelope,
  publishTopic,
  type SubscribeOptions,
  type TopicMessage,
  TopicSubscription,
} from './topic-client.ts'
import { DocVersions } from './versions.ts'
import { Webhooks } from './webhooks.ts'

/** How a `VivimClient` reaches the edge and signs its credentials. */
export interface VivimClientInit {
  /** The edge, `http(s)://host` (or `ws(s)://host`). */
  edge: string
  identity?: Identity
  /**
   * A fixed credential for every call; `null` for none (development mode);
   * without either, an identity signs its own invocations.
   */
  token?: TokenSource | null
  /** Grants held by this identity, used as proof for resources it does not own. */
  grants?: Capability[]
  /** How long each invocation lives, ms (default 5 minutes). */
  invocationTtlMs?: number
}

/**
 * The SDK's entry point: documents, topics and records on one edge, with credentials signed from the identity it is given.
 *
 * @example
 * ```ts
 * const client = new VivimClient({ edge: 'http://127.0.0.1:8787', identity: generateIdentity() })
 * const chat = client.conversation('c1')
 * const stop = client.subscribe('public:news:today', (m) => console.log(m.text()))
 * ```
 */
export class VivimClient {
  readonly records: RecordsClient
  private readonly init: VivimClientInit
  private readonly urls: { http: string; ws: string }
  private readonly grants: Capability[]
  private edgeDidPromise: Promise<string> | null = null

  constructor(init: VivimClientInit) {
    this.init = init
    this.urls = edgeUrls(init.edge)
    this.grants = [...(init.grants ?? [])]
    this.records = new RecordsClient(this.urls.http, init.token ?? undefined)
  }

  /** The identity this client acts as, if it has one. */
  get identity(): Identity | undefined {
    return this.init.identity
  }

  /** Keeps a grant to use as proof from now on. */
  addGrant(grant: Capability): void {
    this.grants.push(grant)
  }

  /** The credential for acting on `resource`: a fresh invocation per call when the client has an identity. */
  tokenFor(resource: string): TokenSource | undefined {
    const identity = this.init.identity
    if (this.init.token !== undefined || identity === undefined) return this.init.token ?? undefined
    return async () => {
      const aud = await this.edgeDid()
      const now = Date.now()
      const grant = this.grants.find((g) => g.aud === identity.did && g.exp > now && resourceCovers(g.res, resource))
      const exp = Math.min(now + (this.init.invocationTtlMs ?? 300_000), grant?.exp ?? Number.POSITIVE_INFINITY)
      const can: Action[] = grant ? [...grant.can] : ['admin']
      return encodeCapabilityText(
        issueCapability(identity, { aud, res: resource, can, exp, prf: grant ? [grant] : [] }),
      )
    }
  }

  /** A provider for any document, with a credential for `doc:<docId>`. */
  document(docId: string, doc = new Y.Doc(), init: Omit<DocProviderInit, 'token'> = {}): VivimDocProvider {
    return new VivimDocProvider(this.urls.ws, docId, doc, { ...init, token: this.tokenFor(`doc:${docId}`) })
  }

  /** A document kept in IndexedDB as well (browsers): offline writes survive a reload and sync on reconnect. */
  async offlineDocument(
    docId: string,
    doc = new Y.Doc(),
    init: Omit<DocProviderInit, 'token'> = {},
  ): Promise<VivimDocProvider> {
    await keepOffline(docId, doc)
    return this.document(docId, doc, init)
  }

  /** The provider of `conversation:<id>`. */
  conversation(id: string, doc?: Y.Doc): VivimDocProvider {
    return this.document(`conversation:${id}`, doc)
  }

  /** The provider of `circle:<id>`. */
  circle(id: string, doc?: Y.Doc): VivimDocProvider {
    return this.document(`circle:${id}`, doc)
  }

  /** The provider of `profile:<did>`. */
  profile(did: string, doc?: Y.Doc): VivimDocProvider {
    return this.document(`profile:${did}`, doc)
  }

  /** The provider of `settings:<did>`. */
  settings(did: string, doc?: Y.Doc): VivimDocProvider {
    return this.document(`settings:${did}`, doc)
  }

  /** Subscribes to a topic; returns the function that stops it. */
  subscribe(topic: string, handler: (message: TopicMessage) => void, options: SubscribeOptions = {}): () => void {
    const url = `${this.urls.ws}/v1/topics/${encodeURIComponent(topic)}`
    const subscription = new TopicSubscription(url, this.tokenFor(`topic:${topic}`), handler, options)
    return () => subscription.stop()
  }

  /**
   * Webhooks on `resource` (`doc:<docId>` or `topic:<topic>`), managed with this identity's
   * credential for it (the owner's, or an `admin` grant).
   */
  webhooks(resource: string): Webhooks {
    return new Webhooks(this.urls.http, this.tokenFor(resource))
  }

  /** The version history of document `docId`: list, preview, name, restore (`versions.ts`). */
  versions(docId: string): DocVersions {
    return new DocVersions(this.urls.http, docId, this.tokenFor(`doc:${docId}`))
  }

  /** Document `docId` as a Yjs update, without a socket (`docs-http.ts`); with `since`, only what it lacks. */
  readDocument(docId: string, since?: Uint8Array): Promise<Uint8Array> {
    return docsHttp.readDocument(this.docTarget(docId), since)
  }

  /** Document `docId`'s state vector, over HTTP. */
  readStateVector(docId: string): Promise<Uint8Array> {
    return docsHttp.readStateVector(this.docTarget(docId))
  }

  /** A typed document as JSON, over HTTP. */
  readDocumentJson<T = docsHttp.DocumentJson>(docId: string): Promise<T> {
    return docsHttp.readDocumentJson<T>(this.docTarget(docId))
  }

  /** Writes one Yjs update to document `docId` over HTTP; resolves once it is stored and sent to every socket. */
  writeDocument(docId: string, update: Uint8Array): Promise<docsHttp.DocumentWritten> {
    return docsHttp.writeDocument(this.docTarget(docId), update)
  }

  /** Deletes document `docId` (its owner only); its sockets close with 4410 and its name stays the owner's. */
  deleteDocument(docId: string): Promise<void> {
    return docsHttp.deleteDocument(this.docTarget(docId))
  }

  /** Signs a message with this identity and publishes it over HTTP. */
  async publish(topic: string, data: Uint8Array | string): Promise<PublishResult> {
    return publishTopic(this.urls.http, this.requireIdentity(), topic, data, this.tokenFor(`topic:${topic}`))
  }

  /** Publishes an envelope already signed (the mesh peer sends one envelope both to the mesh and here). */
  async publishEnvelope(envelope: TopicEnvelope): Promise<PublishResult> {
    return publishEnvelope(this.urls.http, envelope, this.tokenFor(`topic:${envelope.topic}`))
  }

  /** The seed's `grant({ resource, actions, expiresAt, to })`, with this identity's own grant as proof when it has one. */
  grant(options: { resource: string; actions: Action[]; expiresAt: number; to: string }): Capability {
    const identity = this.requireIdentity()
    const proof = this.grants.find((g) => g.aud === identity.did && resourceCovers(g.res, options.resource))
    return issueCapability(identity, {
      aud: options.to,
      res: options.resource,
      can: options.actions,
      exp: options.expiresAt,
      prf: proof ? [proof] : [],
    })
  }

  /** The seed's `verify(capability)`: checks a grant addressed to this identity; rejects with a coded `VivimError` if invalid. */
  verify(capability: Capability, action: Action = 'read'): Promise<VerifiedCapability> {
    const identity = this.requireIdentity()
    const root = capabilityChain(capability).at(-1) as Capability
    return verifyCapability(capability, {
      resource: capability.res,
      action,
      audience: identity.did,
      ownerOf: () => root.iss,
    })
  }

  private docTarget(docId: string): docsHttp.DocumentTarget {
    return { edge: this.urls.http, docId, token: this.tokenFor(`doc:${docId}`) }
  }

  private edgeDid(): Promise<string> {
    this.edgeDidPromise ??= request(`${this.urls.http}/v1/edge`).then(
      async (res) => ((await res.json()) as { did: string }).did,
    )
    return this.edgeDidPromise
  }

  private requireIdentity(): Identity {
    if (!this.init.identity) throw new VivimError(ErrorCode.Unauthorized, 'this needs a client with an identity')
    return this.init.identity
  }
}
