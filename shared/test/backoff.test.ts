import { describe, expect, it } from 'vitest'
import { Backoff, backoffCap, jittered } from '../src/backoff.ts'

describe('retry delays', () => {
  it('double from the first cap to the largest and start again after a reset', () => {
    const top = new Backoff({ initialMs: 100, maxMs: 1_000, random: () => 0.999_999 })
    expect(Array.from({ length: 6 }, () => top.next())).toEqual([99, 199, 399, 799, 999, 999])
    expect(top.attempts).toBe(6)
    top.reset()
    expect(top.next()).toBe(99)
    expect(backoffCap(1_000, { initialMs: 100, maxMs: 1_000 })).toBe(1_000)
  })

  it('draw full jitter from 0 to the cap and equal jitter from half the cap to the cap', () => {
    expect(jittered(1_000, { random: () => 0 })).toBe(0)
    expect(jittered(1_000, { jitter: 'equal', random: () => 0 })).toBe(500)
    expect(jittered(1_000, { jitter: 'equal', random: () => 0.999_999 })).toBe(1_000)
    const equal = new Backoff({ initialMs: 400, maxMs: 400, jitter: 'equal' })
    for (let i = 0; i < 100; i++) expect(equal.next()).toBeGreaterThanOrEqual(200)
  })
})
