/**
 * The indexer under another shard layout, for tests inside workerd: the
 * edge's own app served with `INDEX_SHARDS` (and `INDEX_SHARDS_BEFORE`)
 * overridden for the Worker's side, shards counted as a search reaches them,
 * and the rows each shard holds. The shards themselves take their layout
 * from what the Worker sends them, so overriding the Worker's settings is
 * a deployment with those settings.
 */
import { createExecutionContext, env, runInDurableObject, waitOnExecutionContext } from 'cloudflare:test'
import { expect } from 'vitest'
import { createApp } from '../app.ts'
import { shardName } from '../indexer/shards.ts'
import { EDGE, type SearchPage } from './indexer-client.ts'

export type Vars = { INDEX_SHARDS?: string; INDEX_SHARDS_BEFORE?: string }
export type Fetcher = (path: string, init?: RequestInit) => Promise<Response>

const app = createApp()

/** The edge with `vars` as its settings (and `bindings` in place of its own), once its background work is done. */
export function edgeWith(vars: Vars, bindings: Partial<Env> = {}): Fetcher {
  return async (path, init) => {
    const ctx = createExecutionContext()
    const response = await app.fetch(new Request(`${EDGE}${path}`, init), { ...env, ...vars, ...bindings }, ctx)
    await waitOnExecutionContext(ctx)
    return response
  }
}

/** An `INDEX_SHARD` namespace that notes each call a shard gets, by the shard's name. */
export function countingShards(): { namespace: Env['INDEX_SHARD']; calls: string[] } {
  const calls: string[] = []
  const namespace = new Proxy(env.INDEX_SHARD, {
    get(target, prop) {
      if (prop !== 'getByName') return Reflect.get(target, prop, target)
      return (name: string) => {
        const stub = target.getByName(name)
        return new Proxy(stub, {
          get(s, method) {
            const value = Reflect.get(s, method, s) as unknown
            if (typeof value !== 'function' || typeof method === 'symbol' || method === 'then') return value
            return (...args: unknown[]) => {
              calls.push(name)
              return Reflect.apply(value, s, args)
            }
          },
        })
      }
    },
  })
  return { namespace, calls }
}

/** Every page of a search through `fetcher`, each page checked to hold at most `limit`. */
export async function searchAll(fetcher: Fetcher, q: string, limit: number): Promise<SearchPage['results']> {
  const seen: SearchPage['results'] = []
  let cursor: string | null = null
  for (let pages = 0; pages < 200; pages++) {
    const params = new URLSearchParams(cursor ? { q, limit: `${limit}`, cursor } : { q, limit: `${limit}` })
    const res = await fetcher(`/v1/search?${params}`)
    expect(res.status).toBe(200)
    const page = (await res.json()) as SearchPage
    expect(page.results.length).toBeLessThanOrEqual(limit)
    seen.push(...page.results)
    cursor = page.cursor
    if (!cursor) return seen
  }
  throw new Error('more than 200 pages')
}

/** The numbers of the shards, among the first `count`, whose SQLite holds a record of `key`. */
export async function shardsHolding(key: string, count: number): Promise<number[]> {
  const holding = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      runInDurableObject(env.INDEX_SHARD.getByName(shardName(i)), (_, state) =>
        state.storage.sql.exec('SELECT 1 FROM records WHERE key = ?', key).toArray().length > 0 ? [i] : [],
      ),
    ),
  )
  return holding.flat()
}
