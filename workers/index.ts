/**
 * The edge Worker's entry module: the composed Hono app as the fetch handler.
 * Durable Object classes are exported from here too, as wrangler requires.
 */
import { createApp } from './app.ts'

export { RevocationRegistry } from './auth/revocation-registry.ts'
export { BridgeHub } from './bridge/bridge-hub.ts'
export { FederationHub } from './federation/hub.ts'
export { FederationInbox } from './federation/inbox.ts'
export { FederationOutbox } from './federation/outbox.ts'
export { IndexShard } from './indexer/index-shard.ts'
export { DocRoom } from './relay/doc-room.ts'
export { SealedDocRoom } from './relay/sealed-doc-room.ts'
export { SignalingHub } from './relay/signaling-hub.ts'
export { TopicRoom } from './relay/topic-room.ts'

const app = createApp()

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
} satisfies ExportedHandler<Env>
