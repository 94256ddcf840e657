/**
 * The edge Worker's entry module: the composed Hono app as the fetch handler.
 * Durable Object classes are exported from here too, as wrangler requires,
 * and the extensions are registered here, before any request or Durable
 * Object runs: every entry (the fetch handler, each Durable Object, the
 * tests' `exports.default`) loads this module first.
 */
import { createApp } from './app.ts'
import { bridgeExtension } from './bridge/extension.ts'
import { registerExtensions } from './extensions/events.ts'
import { federationExtension } from './federation/extension.ts'

export { RevocationRegistry } from './auth/revocation-registry.ts'
export { BridgeHub } from './bridge/bridge-hub.ts'
export { FederationDescriptors } from './federation/descriptor-cache.ts'
export { FederationHub } from './federation/hub.ts'
export { FederationInbox } from './federation/inbox.ts'
export { FederationNonces } from './federation/nonce-ledger.ts'
export { FederationOutbox } from './federation/outbox.ts'
export { FederationRate } from './federation/rate-window.ts'
export { IndexShard } from './indexer/index-shard.ts'
export { DocRoom } from './relay/doc-room.ts'
export { SealedDocRoom } from './relay/sealed-doc-room.ts'
export { SignalingHub } from './relay/signaling-hub.ts'
export { TopicRoom } from './relay/topic-room.ts'

// The mesh before federation: a record missing here is taken from the mesh when both have it.
registerExtensions(bridgeExtension, federationExtension)

const app = createApp()

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
} satisfies ExportedHandler<Env>
