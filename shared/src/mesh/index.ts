/**
 * `@vivim/shared/mesh`: what every VIVIM libp2p peer speaks, the bridge and
 * the SDK's browser peer alike: `/vivim/yjs-sync/1.0.0` document sync over a
 * stream, and how a Gossipsub message is named. Kept apart from the package's
 * main entry so the edge and apps without a mesh peer never load libp2p's
 * stream helpers.
 *
 * @example
 * ```ts
 * import { YjsSync } from '@vivim/shared/mesh'
 *
 * const sync = new YjsSync({ node }, { docs: (name) => (name === 'notes' ? notes : null) })
 * await sync.start()
 * await (await sync.sync(peerId, 'notes', notes)).synced
 * ```
 *
 * @module @vivim/shared/mesh
 */
export * from './message-id.ts'
export * from './seen-ids.ts'
export * from './yjs-sync.ts'
