/**
 * Which index shard owns a record key, and how many shards there are.
 *
 * A key's shard is the first four bytes of SHA-256 of the key modulo the
 * shard count, the setting `INDEX_SHARDS` (`wrangler.toml`; 8 when unset,
 * at most `MAX_SHARDS`); shard i is the object named `shard-<i>`. A hash
 * spreads one author's many keys, and popular keys, evenly.
 *
 * The count grows by a whole multiple (8 → 16 → 64), never shrinks: a key's
 * new shard is then its old shard plus a multiple of the old count, so keys
 * move only from an old shard to new ones (half of them when the count
 * doubles) and the old shards keep their names. While keys move,
 * `INDEX_SHARDS_BEFORE` holds the count before the growth, and:
 *
 *   - a write goes to the key's new shard, which first takes the key over
 *     from its old shard (`writerFor`, `IndexShard.write`), so a replay is
 *     still judged against the key's latest record;
 *   - listings and search ask the shards of the new count, whose names
 *     include every old shard, so a key is found wherever it is;
 *   - providers are read from both shards of a key and merged;
 *   - each old shard moves the keys it no longer owns to their shards from
 *     its alarm (`shard-move.ts`), started by each isolate's first indexer
 *     request (`startMoves`).
 *
 * Records are read from KV, which is keyed by record key, so no read of a
 * record waits for a move. The steps are in `docs/deploy.md`.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { utf8ToBytes } from '@noble/hashes/utils.js'
import { ErrorCode, unwrap, VivimError } from '@vivim/shared'
import type { IndexShard } from './index-shard.ts'

/** The shard count when `INDEX_SHARDS` is not set. */
export const SHARD_COUNT = 8
/** Most shards a deployment may have: listing an author's records asks every shard, within a request's 1,000 calls. */
export const MAX_SHARDS = 256

type ShardEnv = Pick<Env, 'INDEX_SHARD'> & Partial<Pick<Env, 'INDEX_SHARDS' | 'INDEX_SHARDS_BEFORE'>>
type Shard = DurableObjectStub<IndexShard>

/** How many shards hold the index, and how many held it before a growth whose keys are still moving. */
export interface ShardLayout {
  readonly count: number
  /** The count before the last growth while its keys move; null once they have moved (or never grew). */
  readonly before: number | null
}

function invalidSetting(message: string): never {
  throw new VivimError(ErrorCode.Internal, `the index setting is wrong: ${message} (docs/deploy.md)`)
}

function parseCount(name: string, text: string): number {
  const n = /^[1-9]\d{0,4}$/.test(text) ? Number(text) : Number.NaN
  if (!(n <= MAX_SHARDS)) invalidSetting(`${name} must be a whole number from 1 to ${MAX_SHARDS}, not "${text}"`)
  return n
}

/**
 * The layout `INDEX_SHARDS` and `INDEX_SHARDS_BEFORE` set; throws
 * `internal` for values that would send keys to the wrong shards.
 *
 * @example
 * ```ts
 * shardLayout({ INDEX_SHARDS: '16', INDEX_SHARDS_BEFORE: '8' }) // { count: 16, before: 8 }
 * ```
 */
export function shardLayout(env: Partial<Pick<Env, 'INDEX_SHARDS' | 'INDEX_SHARDS_BEFORE'>>): ShardLayout {
  const count = env.INDEX_SHARDS ? parseCount('INDEX_SHARDS', env.INDEX_SHARDS) : SHARD_COUNT
  if (!env.INDEX_SHARDS_BEFORE) return { count, before: null }
  const before = parseCount('INDEX_SHARDS_BEFORE', env.INDEX_SHARDS_BEFORE)
  if (before >= count || count % before !== 0) {
    invalidSetting(`INDEX_SHARDS (${count}) must be a multiple of INDEX_SHARDS_BEFORE (${before}), and larger`)
  }
  return { count, before }
}

/**
 * The shard number of `key` among `count` shards, from 0 to `count - 1`.
 *
 * @example
 * ```ts
 * shardOf('/vivim/profile/did:key:z6Mk…') // e.g. 5, the same on every edge
 * ```
 */
export function shardOf(key: string, count = SHARD_COUNT): number {
  const digest = sha256(utf8ToBytes(key))
  return new DataView(digest.buffer, digest.byteOffset, 4).getUint32(0) % count
}

/** The name of shard `i`: the same at every count, so a growth keeps the old shards. */
export function shardName(i: number): string {
  return `shard-${i}`
}

/** The shard that owns `key` now. */
export function shardFor(env: ShardEnv, key: string): Shard {
  return env.INDEX_SHARD.getByName(shardName(shardOf(key, shardLayout(env).count)))
}

/** The shard that decides writes of `key`, and while keys move, the name of the shard it may still be in. */
export function writerFor(env: ShardEnv, key: string): { shard: Shard; previous: string | null } {
  const { count, before } = shardLayout(env)
  const owner = shardOf(key, count)
  const old = before === null ? owner : shardOf(key, before)
  return { shard: env.INDEX_SHARD.getByName(shardName(owner)), previous: old === owner ? null : shardName(old) }
}

/** The shards that may hold `key`: its own, and while keys move, the one it may still be in. */
export function shardsOf(env: ShardEnv, key: string): Shard[] {
  const { shard, previous } = writerFor(env, key)
  return previous === null ? [shard] : [shard, env.INDEX_SHARD.getByName(previous)]
}

/** Shards `from` to `from + length - 1`. */
export function shardRange(env: Pick<Env, 'INDEX_SHARD'>, from: number, length: number): Shard[] {
  return Array.from({ length }, (_, i) => env.INDEX_SHARD.getByName(shardName(from + i)))
}

/** Every shard of the current count. */
export function allShards(env: ShardEnv): Shard[] {
  return shardRange(env, 0, shardLayout(env).count)
}

/** Layouts whose moves this isolate has started: each is started once per isolate. */
const started = new Set<string>()

/**
 * While keys move, tells each old shard once per isolate to move the keys
 * it no longer owns (a shard already moving, or done, ignores it), so a
 * move starts with the first indexer request after the deploy that set
 * `INDEX_SHARDS_BEFORE`.
 */
export async function startMoves(env: ShardEnv): Promise<void> {
  const { count, before } = shardLayout(env)
  const layout = `${before}:${count}`
  if (before === null || started.has(layout)) return
  started.add(layout)
  try {
    await Promise.all(
      shardRange(env, 0, before).map(async (shard, index) => unwrap(await shard.moveOut({ index, count }))),
    )
  } catch (error) {
    // The next request of this isolate tells them again; a shard told twice carries on.
    started.delete(layout)
    throw error
  }
}
