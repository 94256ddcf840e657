import * as prng from 'lib0/prng'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { restoreUpdate } from '../relay/doc-restore.ts'

/** One random edit of a map, an array or a text root (untyped: the restore reads the kinds off the content). */
function edit(gen: prng.PRNG, doc: Y.Doc): void {
  const word = prng.word(gen, 1, 4)
  switch (prng.int32(gen, 0, 2)) {
    case 0: {
      const map = doc.getMap('m')
      if (prng.bool(gen) && map.size > 0) map.delete(prng.oneOf(gen, [...map.keys()]))
      else map.set(word, prng.bool(gen) ? word : { nested: word })
      return
    }
    case 1: {
      const array = doc.getArray('a')
      if (prng.bool(gen) && array.length > 0) array.delete(prng.int32(gen, 0, array.length - 1))
      else array.insert(prng.int32(gen, 0, array.length), [prng.bool(gen) ? word : { item: word }])
      return
    }
    default: {
      const text = doc.getText('t')
      if (prng.bool(gen) && text.length > 0) text.delete(prng.int32(gen, 0, text.length - 1), 1)
      else text.insert(prng.int32(gen, 0, text.length), word)
    }
  }
}

function shuffled<T>(gen: prng.PRNG, items: readonly T[]): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = prng.int32(gen, 0, i)
    ;[out[i], out[j]] = [out[j] as T, out[i] as T]
  }
  return out
}

const contentOf = (doc: Y.Doc) => ({
  m: doc.getMap('m').toJSON(),
  a: doc.getArray('a').toJSON(),
  t: doc.getText('t').toString(),
})

describe('restoring a version as a new change', () => {
  it('for 200 seeds, two replicas edit, drop and reorder updates, agree, then a restore brings back the version exactly', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const gen = prng.create(seed)
      const [one, two] = [new Y.Doc(), new Y.Doc()]
      const inFlight: Uint8Array[] = []
      for (const doc of [one, two]) doc.on('update', (u: Uint8Array) => inFlight.push(u))
      const round = (edits: number) => {
        for (let i = 0; i < edits; i++) edit(gen, prng.bool(gen) ? one : two)
        // Updates arrive out of order, each at one replica only (dropped at the other); then each side sends all it has, as a reconnect does.
        for (const u of shuffled(gen, inFlight)) Y.applyUpdate(prng.bool(gen) ? one : two, u)
        inFlight.length = 0
        Y.applyUpdate(one, Y.encodeStateAsUpdate(two))
        Y.applyUpdate(two, Y.encodeStateAsUpdate(one))
      }
      round(prng.int32(gen, 1, 30))
      expect(contentOf(one), `seed ${seed}`).toEqual(contentOf(two))
      const version = Y.encodeStateAsUpdate(one)
      const expected = contentOf(one)
      round(prng.int32(gen, 0, 30))

      Y.applyUpdate(one, restoreUpdate(Y.encodeStateAsUpdate(one), version, null))
      expect(contentOf(one), `seed ${seed}`).toEqual(expected)
      // The restore is an ordinary update: the other replica converges on it too.
      Y.applyUpdate(two, Y.encodeStateAsUpdate(one))
      expect(contentOf(two), `seed ${seed}`).toEqual(expected)
    }
  })
})
