import * as prng from 'lib0/prng'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { overlaps } from '../relay/doc-apply.ts'

/** The answer from every struct's clock, as `overlaps` gave before it read headers. */
function overlapsByMeta(doc: Y.Doc, update: Uint8Array): boolean {
  return [...Y.parseUpdateMeta(update).from].some(([client, clock]) => clock < Y.getState(doc.store, client))
}

describe('a document room telling whether an update repeats structs it has', () => {
  it('answers from the header what decoding every struct answers, for seeded random histories', () => {
    const gen = prng.create(42)
    let compared = 0
    for (let round = 0; round < 40; round++) {
      const writers = Array.from({ length: prng.uint32(gen, 1, 3) }, () => new Y.Doc())
      const room = new Y.Doc()
      const updates: Uint8Array[] = []
      for (const w of writers) w.on('update', (u: Uint8Array) => updates.push(u))
      for (let step = 0; step < 30; step++) {
        const w = prng.oneOf(gen, writers)
        if (prng.bool(gen)) w.getArray('a').push([prng.word(gen)])
        else if (w.getArray('a').length > 0) w.getArray('a').delete(0, 1)
        else w.getMap('m').set(prng.word(gen), step)
        // Some updates reach the room, some arrive again, some merged with others.
        const next = prng.oneOf(gen, updates)
        const merged = prng.bool(gen) ? Y.mergeUpdates(updates.slice(-3)) : next
        for (const u of [next, merged, Y.encodeStateAsUpdate(w)]) {
          expect(overlaps(room, u)).toBe(overlapsByMeta(room, u))
          compared++
        }
        if (prng.bool(gen)) Y.applyUpdate(room, next)
      }
    }
    expect(compared).toBe(40 * 30 * 3)
  })

  it('says no for an update without structs (deletes only) and falls back on a header it cannot read', () => {
    const doc = new Y.Doc()
    doc.getArray('a').push([1, 2])
    const before = Y.encodeStateVector(doc)
    doc.getArray('a').delete(0, 1)
    const deletesOnly = Y.encodeStateAsUpdate(doc, before)
    expect(overlaps(doc, deletesOnly)).toBe(false)
    expect(() => overlaps(doc, new Uint8Array([1, 0xff]))).toThrow()
  })
})
