/**
 * A small seeded generator (mulberry32) for tests and benchmarks that must
 * repeat: the same seed gives the same numbers in [0, 1). Fine for picking
 * words, paces and moments; never for keys.
 *
 * @example
 * ```ts
 * const random = seeded(7)
 * setTimeout(step, 2 + Math.floor(random() * 8))
 * ```
 */
export function seeded(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}
