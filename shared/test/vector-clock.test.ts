import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { ErrorCode } from '../src/errors.ts'
import { compareClocks, fromStateVector, incrementClock, mergeClocks } from '../src/vector-clock.ts'

describe('vector clocks', () => {
  it('compare gives all four outcomes', () => {
    expect(compareClocks({ a: 2, b: 1 }, { a: 1, b: 1 })).toBe('after')
    expect(compareClocks({ a: 1 }, { a: 1, b: 1 })).toBe('before')
    expect(compareClocks({ a: 2, b: 0 }, { a: 1, b: 1 })).toBe('concurrent')
    expect(compareClocks({ a: 1, b: 0 }, { a: 1 })).toBe('equal')
    expect(compareClocks({}, {})).toBe('equal')
  })

  it('merge is the least upper bound', () => {
    const a = { x: 3, y: 1 }
    const b = { y: 4, z: 2 }
    const m = mergeClocks(a, b)
    expect(m).toEqual({ x: 3, y: 4, z: 2 })
    expect(compareClocks(m, a)).toBe('after')
    expect(compareClocks(m, b)).toBe('after')
    expect(mergeClocks(b, a)).toEqual(m)
  })

  it('increment moves one replica forward and never backward', () => {
    const c = incrementClock(incrementClock({}, 'a'), 'a', 2)
    expect(c).toEqual({ a: 3 })
    expect(compareClocks(incrementClock(c, 'b'), c)).toBe('after')
    expect(() => incrementClock(c, 'a', 0)).toThrowError(expect.objectContaining({ code: ErrorCode.BadRequest }))
  })

  it('converts Yjs state vectors and tells concurrent edits from ordered ones', () => {
    const a = new Y.Doc()
    const b = new Y.Doc()
    a.getArray('messages').push(['hello'])
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a))
    const sv = (d: Y.Doc) => fromStateVector(Y.encodeStateVector(d))
    expect(compareClocks(sv(a), sv(b))).toBe('equal')
    expect(fromStateVector(Y.decodeStateVector(Y.encodeStateVector(a)))).toEqual(sv(a))
    b.getArray('messages').push(['from b'])
    expect(compareClocks(sv(b), sv(a))).toBe('after')
    a.getArray('messages').push(['from a'])
    expect(compareClocks(sv(a), sv(b))).toBe('concurrent')
    expect(sv(a)[String(a.clientID)]).toBe(2)
    expect(sv(a)[String(b.clientID)]).toBeUndefined()
    expect(sv(b)[String(b.clientID)]).toBe(1)
  })

  it('rejects bytes that are not a state vector', () => {
    expect(() => fromStateVector(new Uint8Array([0xff, 0xff, 0xff]))).toThrowError(
      expect.objectContaining({ code: ErrorCode.InvalidEncoding }),
    )
  })

  // Replicas receive, drop and reorder updates; after a final exchange of
  // state-vector diffs they hold the same content and equal clocks, and the
  // clock comparisons along the way never contradict the delivered updates.
  it.each([1, 2, 3, 42, 1337])('seeded random replicas converge (seed %i)', (seed) => {
    const random = mulberry32(seed)
    const replicas = Array.from({ length: 4 }, () => new Y.Doc())
    const inFlight: { to: number; update: Uint8Array }[] = []
    replicas.forEach((doc, i) => {
      doc.on('update', (update: Uint8Array, origin: unknown) => {
        if (origin === 'remote') return
        replicas.forEach((_, j) => {
          if (j !== i && random() > 0.3) inFlight.push({ to: j, update })
        })
      })
    })
    for (let step = 0; step < 200; step++) {
      const r = random()
      if (r < 0.5) {
        const doc = replicas[Math.floor(random() * replicas.length)] as Y.Doc
        doc.getArray<number>('log').push([step])
        doc.getMap<number>('settings').set(`k${Math.floor(random() * 5)}`, step)
      } else if (inFlight.length > 0) {
        const [msg] = inFlight.splice(Math.floor(random() * inFlight.length), 1)
        if (msg) Y.applyUpdate(replicas[msg.to] as Y.Doc, msg.update, 'remote')
      }
    }
    for (const a of replicas) {
      for (const b of replicas) {
        Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)), 'remote')
      }
    }
    const first = replicas[0] as Y.Doc
    for (const doc of replicas) {
      expect(doc.getArray('log').toJSON()).toEqual(first.getArray('log').toJSON())
      expect(doc.getMap('settings').toJSON()).toEqual(first.getMap('settings').toJSON())
      expect(
        compareClocks(fromStateVector(Y.encodeStateVector(doc)), fromStateVector(Y.encodeStateVector(first))),
      ).toBe('equal')
    }
    expect(first.getArray('log').length).toBeGreaterThan(50)
  })
})

function mulberry32(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
