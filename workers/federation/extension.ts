/**
 * Federation as an edge extension: what the core reports (`../extensions/events.ts`)
 * goes to the federated instances through the hooks of `hooks.ts`, and a
 * record missing here is asked of the configured peers (`records.ts`).
 * Registered in `../index.ts`.
 *
 * @example
 * ```ts
 * registerExtensions(bridgeExtension, federationExtension)
 * ```
 */
import type { EdgeExtension } from '../extensions/events.ts'
import { federationConfig } from './config.ts'
import { docFlushed, docOpened, revocationStored, topicMessageStored, topicOpened } from './hooks.ts'
import { findRecordViaFederation } from './records.ts'

export const federationExtension: EdgeExtension = {
  name: 'federation',
  docOpened: (env, { docId, home }) => docOpened(env, docId, home),
  // Rooms journal flushes and messages only while this instance federates.
  takesHandovers: (env) => federationConfig(env) !== null,
  docFlushed: (env, { docId, update, origin }) => docFlushed(env, docId, update, origin ?? null),
  topicOpened: (env, { topic }) => topicOpened(env, topic),
  topicMessageStored: (env, { envelope, origin }) => topicMessageStored(env, envelope, origin ?? null),
  revocationStored: (env, { revocation, token }) => revocationStored(env, revocation, token),
  // Records federate by lookup only: a local write is not pushed to peers.
  recordMissed: (env, { key }) => findRecordViaFederation(env, key),
}
