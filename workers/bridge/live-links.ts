/**
 * This isolate's copy of the list of live bridge links the registry
 * publishes to KV (`link-registry.ts`), kept for `LINKS_TTL_MS`: a record
 * write, a provider announcement, a record miss or `/v1/bridge/peers` reads
 * the copy, so KV is read at most once per isolate per interval (callers
 * that arrive while it is being read share that one read), and the registry
 * object only when the key was never written.
 *
 * A link made through this isolate is added to the copy at once, and a link
 * found gone is dropped from it; a link made through another isolate is
 * seen here within `LINKS_TTL_MS` and KV's propagation (up to about a
 * minute between locations), so for up to that long a new bridge may
 * miss this isolate's pushes (the mesh is best effort, and bridges
 * republish what they hold).
 *
 * @example
 * ```ts
 * const names = await liveLinks.list(env) // ['link:…', …], from KV at most once per 10 s
 * ```
 */
import { LINKS_KV_KEY, registryOf } from './link-registry.ts'

/** Where the live links are read: KV, and the registry when KV has never been written. */
type LinksEnv = Pick<Env, 'BRIDGE_REGISTRY' | 'RECORDS'>

/** How long an isolate uses its copy of the registry's list before asking again. */
export const LINKS_TTL_MS = 10_000

export class LiveLinks {
  private names: string[] = []
  private fetchedAt = Number.NEGATIVE_INFINITY
  private loading: Promise<string[]> | null = null
  /** Links added here while the registry was being asked: its answer may predate them. */
  private addedWhileLoading = new Set<string>()
  private readonly ttlMs: number

  constructor(ttlMs = LINKS_TTL_MS) {
    this.ttlMs = ttlMs
  }

  /** The live links' names: the copy while it is younger than the interval, else the registry's list. */
  list(env: LinksEnv, now = Date.now()): Promise<string[]> {
    if (now - this.fetchedAt < this.ttlMs) return Promise.resolve(this.names)
    this.loading ??= this.load(env, now)
    return this.loading
  }

  /** A link this isolate just made: listed at once. */
  added(name: string): void {
    if (!this.names.includes(name)) this.names = [...this.names, name]
    if (this.loading) this.addedWhileLoading.add(name)
  }

  /** A link found gone: no longer listed here. */
  dropped(name: string): void {
    this.names = this.names.filter((n) => n !== name)
    this.addedWhileLoading.delete(name)
  }

  private async load(env: LinksEnv, now: number): Promise<string[]> {
    this.addedWhileLoading = new Set()
    try {
      // KV first (many readers of one key); the registry only when the key was never written.
      const listed = (await env.RECORDS.get<string[]>(LINKS_KV_KEY, 'json')) ?? (await registryOf(env).list())
      this.names = [...new Set([...listed, ...this.addedWhileLoading])]
      this.fetchedAt = now
      return this.names
    } finally {
      this.loading = null
    }
  }
}

/** The copy this isolate's Worker uses. */
export const liveLinks = new LiveLinks()
