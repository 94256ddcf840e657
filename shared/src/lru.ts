/**
 * A bounded map that forgets its least recently used entry when full: the
 * per-isolate caches of imported keys and of verified capability links.
 * Internal; not exported from the package.
 */
export class BoundedCache<K, V> {
  readonly #entries = new Map<K, V>()
  readonly max: number

  constructor(max: number) {
    this.max = max
  }

  get size(): number {
    return this.#entries.size
  }

  get(key: K): V | undefined {
    const value = this.#entries.get(key)
    if (value === undefined) return undefined
    this.#entries.delete(key)
    this.#entries.set(key, value)
    return value
  }

  set(key: K, value: V): void {
    this.#entries.delete(key)
    this.#entries.set(key, value)
    if (this.#entries.size > this.max) {
      const oldest = this.#entries.keys().next()
      if (!oldest.done) this.#entries.delete(oldest.value)
    }
  }

  clear(): void {
    this.#entries.clear()
  }
}
