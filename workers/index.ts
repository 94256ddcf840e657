/**
 * The edge Worker's entry module: the composed Hono app as the fetch handler.
 * Durable Object classes are exported from here too, as wrangler requires,
 * and the extensions are registered here, before any request or Durable
 * Object runs: every entry (the fetch handler, each Durable Object, the
 * tests' `exports.default`) loads this module first.
 */
import { createApp } from './app.ts'
import { RevocationRegistry as RevocationRegistryObject } from './auth/revocation-registry.ts'
import { BridgeLink as BridgeLinkObject } from './bridge/bridge-link.ts'
import { bridgeExtension } from './bridge/extension.ts'
import { BridgeRegistry as BridgeRegistryObject } from './bridge/link-registry.ts'
import { counted, withCensus } from './census.ts'
import { registerExtensions } from './extensions/events.ts'
import { FederationDescriptors as FederationDescriptorsObject } from './federation/descriptor-cache.ts'
import { federationExtension } from './federation/extension.ts'
import { FederationHub as FederationHubObject } from './federation/hub.ts'
import { FederationInbox as FederationInboxObject } from './federation/inbox.ts'
import { FederationNonces as FederationNoncesObject } from './federation/nonce-ledger.ts'
import { FederationOutbox as FederationOutboxObject } from './federation/outbox.ts'
import { FederationRate as FederationRateObject } from './federation/rate-window.ts'
import { IndexShard as IndexShardObject } from './indexer/index-shard.ts'
import { DocRoom as DocRoomObject } from './relay/doc-room.ts'
import { SealedDocRoom as SealedDocRoomObject } from './relay/sealed-doc-room.ts'
import { SignalingLeases as SignalingLeasesObject } from './relay/signaling-leases.ts'
import { SignalingRoom as SignalingRoomObject } from './relay/signaling-room.ts'
import { TopicFanout as TopicFanoutObject } from './relay/topic-fanout.ts'
import { TopicRoom as TopicRoomObject } from './relay/topic-room.ts'
import { WebhookQueue as WebhookQueueObject } from './webhooks/delivery-queue.ts'
import { webhooksExtension } from './webhooks/extension.ts'
import { WebhookOwner as WebhookOwnerObject } from './webhooks/owner-quota.ts'
import { WebhookResource as WebhookResourceObject } from './webhooks/resource-webhooks.ts'

// Each class counted by the census when it is on (`census.ts`); the type is the class's own, for `env.d.ts`.
export const RevocationRegistry = counted('REVOCATIONS', RevocationRegistryObject)
export type RevocationRegistry = RevocationRegistryObject
export const BridgeLink = counted('BRIDGE_LINK', BridgeLinkObject)
export type BridgeLink = BridgeLinkObject
export const BridgeRegistry = counted('BRIDGE_REGISTRY', BridgeRegistryObject)
export type BridgeRegistry = BridgeRegistryObject
export const FederationDescriptors = counted('FEDERATION_DESCRIPTORS', FederationDescriptorsObject)
export type FederationDescriptors = FederationDescriptorsObject
export const FederationHub = counted('FEDERATION_HUB', FederationHubObject)
export type FederationHub = FederationHubObject
export const FederationInbox = counted('FEDERATION_INBOX', FederationInboxObject)
export type FederationInbox = FederationInboxObject
export const FederationNonces = counted('FEDERATION_NONCES', FederationNoncesObject)
export type FederationNonces = FederationNoncesObject
export const FederationOutbox = counted('FEDERATION_OUTBOX', FederationOutboxObject)
export type FederationOutbox = FederationOutboxObject
export const FederationRate = counted('FEDERATION_RATE', FederationRateObject)
export type FederationRate = FederationRateObject
export const IndexShard = counted('INDEX_SHARD', IndexShardObject)
export type IndexShard = IndexShardObject
export const DocRoom = counted('DOC_ROOM', DocRoomObject)
export type DocRoom = DocRoomObject
export const SealedDocRoom = counted('SEALED_DOC_ROOM', SealedDocRoomObject)
export type SealedDocRoom = SealedDocRoomObject
export const SignalingLeases = counted('SIGNALING_LEASES', SignalingLeasesObject)
export type SignalingLeases = SignalingLeasesObject
export const SignalingRoom = counted('SIGNALING_ROOM', SignalingRoomObject)
export type SignalingRoom = SignalingRoomObject
export const TopicRoom = counted('TOPIC_ROOM', TopicRoomObject)
export type TopicRoom = TopicRoomObject
export const TopicFanout = counted('TOPIC_FANOUT', TopicFanoutObject)
export type TopicFanout = TopicFanoutObject
export const WebhookResource = counted('WEBHOOK_RESOURCE', WebhookResourceObject)
export type WebhookResource = WebhookResourceObject
export const WebhookQueue = counted('WEBHOOK_QUEUE', WebhookQueueObject)
export type WebhookQueue = WebhookQueueObject
export const WebhookOwner = counted('WEBHOOK_OWNER', WebhookOwnerObject)
export type WebhookOwner = WebhookOwnerObject

// The mesh before federation: a record missing here is taken from the mesh when both have it. Webhooks take
// document flushes and topic messages only.
registerExtensions(bridgeExtension, federationExtension, webhooksExtension)

const app = createApp()

export default {
  fetch: (request, env, ctx) => app.fetch(request, withCensus(env), ctx),
} satisfies ExportedHandler<Env>
