/**
 * The message ids a peer (a bridge, a browser) has handled recently, so a message that comes
 * back round (edge → mesh → another bridge → edge → …) is dropped instead of
 * forwarded or delivered again. Bounded by count: the oldest id is forgotten first. The
 * edge's topic rooms and Gossipsub's seen cache drop copies too; this set is
 * what keeps the two from feeding each other.
 *
 * @example
 * ```ts
 * const seen = new SeenIds(10_000)
 * seen.add(id) // true: first time, forward it
 * seen.add(id) // false: a copy, drop it
 * ```
 */
export class SeenIds {
  private readonly max: number
  private readonly ids = new Set<string>()

  constructor(max: number) {
    this.max = max
  }

  /** Records `id`; whether it was new. */
  add(id: string): boolean {
    if (this.ids.has(id)) return false
    this.ids.add(id)
    if (this.ids.size > this.max) {
      // Sets iterate in insertion order: the first is the oldest.
      const oldest = this.ids.values().next().value as string
      this.ids.delete(oldest)
    }
    return true
  }

  /** Whether `id` is remembered. */
  has(id: string): boolean {
    return this.ids.has(id)
  }

  /** How many ids are remembered. */
  get size(): number {
    return this.ids.size
  }
}
