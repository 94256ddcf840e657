/**
 * Which index shard owns a record key: the first four bytes of SHA-256 of
 * the key, modulo `SHARD_COUNT`. A hash spreads one author's many keys, and
 * popular keys, evenly; the count is fixed because changing it moves keys
 * between shards (a resharding would have to copy them).
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { utf8ToBytes } from '@noble/hashes/utils.js'
import type { IndexShard } from './index-shard.ts'

export const SHARD_COUNT = 8

/**
 * The shard number of `key`, from 0 to `SHARD_COUNT - 1`.
 *
 * @example
 * ```ts
 * shardOf('/vivim/profile/did:key:z6Mk…') // e.g. 5, the same on every edge
 * ```
 */
export function shardOf(key: string): number {
  const digest = sha256(utf8ToBytes(key))
  return new DataView(digest.buffer, digest.byteOffset, 4).getUint32(0) % SHARD_COUNT
}

export function shardFor(env: Pick<Env, 'INDEX_SHARD'>, key: string): DurableObjectStub<IndexShard> {
  return env.INDEX_SHARD.getByName(`shard-${shardOf(key)}`)
}

export function allShards(env: Pick<Env, 'INDEX_SHARD'>): DurableObjectStub<IndexShard>[] {
  return Array.from({ length: SHARD_COUNT }, (_, i) => env.INDEX_SHARD.getByName(`shard-${i}`))
}
