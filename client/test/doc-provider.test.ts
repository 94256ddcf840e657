import { ErrorCode, type VivimError } from '@vivim/shared'
import { describe, expect, inject, it } from 'vitest'
import * as Y from 'yjs'
import { VivimDocProvider } from '../src/doc-provider.ts'
import type { SyncState } from '../src/sync-state.ts'

const edge = inject('edgeUrl').replace('http', 'ws')
const fresh = (prefix = 'sdk') => `${prefix}-${crypto.randomUUID()}`

function until(provider: VivimDocProvider, predicate: () => boolean): Promise<void> {
  if (predicate()) return Promise.resolve()
  return new Promise((resolve) => {
    const check = () => {
      if (!predicate()) return
      provider.doc.off('update', check)
      stop()
      resolve()
    }
    const stop = provider.state.on(check)
    provider.doc.on('update', check)
    provider.on('error', check)
  })
}

function record(provider: VivimDocProvider): SyncState[] {
  const seen: SyncState[] = [provider.state.value]
  provider.state.on((s) => seen.push(s))
  return seen
}

const nextError = (provider: VivimDocProvider) =>
  new Promise<VivimError>((resolve) => provider.once('error', (e: VivimError) => resolve(e)))

describe('VivimDocProvider against the edge', () => {
  it('two providers converge, walking offline → connecting → syncing → synced', async () => {
    const docId = fresh()
    const a = new VivimDocProvider(edge, docId, new Y.Doc(), { connect: false })
    const states = record(a)
    a.connect()
    await until(a, () => a.state.value === 'synced')
    expect(states).toEqual(['offline', 'connecting', 'syncing', 'synced'])
    const b = new VivimDocProvider(edge, docId, new Y.Doc())
    a.doc.getArray<string>('log').push(['from a'])
    b.doc.getArray<string>('log').push(['from b'])
    await until(a, () => a.doc.getArray('log').length === 2)
    await until(b, () => b.doc.getArray('log').length === 2)
    expect(a.doc.getArray('log').toArray()).toEqual(b.doc.getArray('log').toArray())
    await until(a, () => a.state.value === 'synced')
    a.destroy()
    b.destroy()
  })

  it('returns to synced after each of many writes, once the edge has stored it', async () => {
    const docId = fresh()
    const a = new VivimDocProvider(edge, docId, new Y.Doc())
    const b = new VivimDocProvider(edge, docId, new Y.Doc())
    for (let n = 0; n < 5; n++) {
      await until(a, () => a.state.value === 'synced')
      a.doc.getMap('m').set(`k${n}`, n)
      expect(a.state.value).toBe('syncing')
    }
    await until(a, () => a.state.value === 'synced')
    // Synced means stored: another client holds every write.
    await until(b, () => b.doc.getMap('m').size === 5)
    a.destroy()
    b.destroy()
  })

  it('merges concurrent offline edits through conflict → resolved → synced', async () => {
    const docId = fresh()
    const online = new VivimDocProvider(edge, docId, new Y.Doc())
    await until(online, () => online.state.value === 'synced')
    online.doc.getArray<string>('log').push(['while the other was away'])
    await until(online, () => online.state.value === 'synced')
    const offlineDoc = new Y.Doc()
    offlineDoc.getArray<string>('log').push(['written offline'])
    const returning = new VivimDocProvider(edge, docId, offlineDoc, { connect: false })
    const states = record(returning)
    returning.connect()
    await until(returning, () => returning.state.value === 'synced')
    expect(states).toEqual(['offline', 'connecting', 'syncing', 'conflict', 'resolved', 'synced'])
    await until(online, () => online.doc.getArray('log').length === 2)
    expect(online.doc.getArray('log').toArray()).toEqual(returning.doc.getArray('log').toArray())
    online.destroy()
    returning.destroy()
  })

  it('sees presence come and go', async () => {
    const docId = fresh()
    const a = new VivimDocProvider(edge, docId, new Y.Doc())
    const b = new VivimDocProvider(edge, docId, new Y.Doc())
    a.awareness.setLocalState({ name: 'Alice' })
    await new Promise<void>((resolve) => {
      const check = () => b.awareness.getStates().has(a.doc.clientID) && resolve()
      b.awareness.on('change', check)
      check()
    })
    expect(b.awareness.getStates().get(a.doc.clientID)).toEqual({ name: 'Alice' })
    const gone = new Promise<void>((resolve) =>
      b.awareness.on('change', () => !b.awareness.getStates().has(a.doc.clientID) && resolve()),
    )
    a.destroy()
    await gone
    b.destroy()
  })

  it('a wrong edge URL surfaces as a connection error and the offline state, then retries', async () => {
    const provider = new VivimDocProvider('ws://127.0.0.1:9', fresh(), new Y.Doc())
    const error = await nextError(provider)
    expect(error.code).toBe(ErrorCode.ConnectionFailed)
    expect(provider.state.value).toBe('offline')
    expect(provider.retrying).toBe(true)
    provider.destroy()
    expect(provider.retrying).toBe(false)
  })

  it('a refused token surfaces as a typed error and stops, with no retry loop', async () => {
    const provider = new VivimDocProvider(edge, fresh(), new Y.Doc(), { token: 'not-a-capability' })
    const error = await nextError(provider)
    expect(error.code).toBe(ErrorCode.InvalidToken)
    expect(provider.state.value).toBe('offline')
    expect(provider.retrying).toBe(false)
    expect(provider.lastError?.code).toBe(ErrorCode.InvalidToken)
    provider.destroy()
  })

  it('a close with an error code from the room surfaces as a typed error', async () => {
    const provider = new VivimDocProvider(edge, fresh('conversation:sdk'), new Y.Doc())
    await until(provider, () => provider.state.value === 'synced')
    const closed = nextError(provider)
    provider.doc.getArray('messages').push([{ not: 'a message' }])
    expect((await closed).code).toBe(ErrorCode.InvalidRecord)
    expect(provider.state.value).toBe('offline')
    expect(provider.retrying).toBe(false)
    provider.destroy()
  })
})
