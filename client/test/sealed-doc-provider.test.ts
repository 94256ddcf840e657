import { describe, expect, inject, it } from 'vitest'
import * as Y from 'yjs'
import { VivimSealedDocProvider } from '../src/e2e/sealed-doc-provider.ts'

const edge = inject('edgeUrl').replace('http', 'ws')
const key = crypto.getRandomValues(new Uint8Array(32))

function until(provider: VivimSealedDocProvider, check: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const poke = () => check() && resolve()
    provider.doc.on('update', poke)
    provider.state.on(poke)
    poke()
  })
}

describe('VivimSealedDocProvider', () => {
  it('two clients converge through the edge, including writes made offline and after a compaction', async () => {
    const docId = `sealed-sdk-${crypto.randomUUID()}`
    const a = new VivimSealedDocProvider(edge, docId, new Y.Doc(), key)
    const b = new VivimSealedDocProvider(edge, docId, new Y.Doc(), key)
    await until(a, () => a.state.value === 'synced')
    a.doc.getArray<string>('notes').push(['one'])
    await until(b, () => b.doc.getArray('notes').length === 1)
    b.disconnect()
    await until(b, () => b.state.value === 'offline')
    b.doc.getArray<string>('notes').push(['written offline'])
    a.doc.getArray<string>('notes').push(['two'])
    a.compact()
    b.connect()
    await until(a, () => a.doc.getArray('notes').length === 3)
    await until(b, () => b.doc.getArray('notes').length === 3)
    expect(a.doc.getArray('notes').toArray().sort()).toEqual(b.doc.getArray('notes').toArray().sort())
    const late = new VivimSealedDocProvider(edge, docId, new Y.Doc(), key)
    await until(late, () => late.doc.getArray('notes').length === 3)
    for (const p of [a, b, late]) p.destroy()
  })
})
