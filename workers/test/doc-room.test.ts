import { env, evictDurableObject, runInDurableObject } from 'cloudflare:test'
import { CloseCode, Conversation, encodeSyncUpdate } from '@vivim/shared'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { DEV_READ_ONLY_TOKEN } from '../http/access.ts'
import { DocPeer } from './doc-peer.ts'

const log = (p: DocPeer) => p.doc.getArray<string>('log')
const hasAll = (p: DocPeer, items: string[]) => () => items.every((i) => log(p).toArray().includes(i))
/** Whether the room's stored log holds content that cannot be integrated (it waits for a missing update). */
const storedContentHeldBack = (docId: string) =>
  runInDurableObject(env.DOC_ROOM.getByName(docId), (_, state) => {
    const doc = new Y.Doc()
    for (const row of state.storage.sql.exec<{ data: ArrayBuffer }>('SELECT data FROM doc_updates ORDER BY seq')) {
      Y.applyUpdate(doc, new Uint8Array(row.data))
    }
    return doc.store.pendingStructs !== null
  })
let n = 0
const freshDoc = () => `test-doc-${++n}-${crypto.randomUUID()}`

describe('document rooms', () => {
  it('two clients converge on concurrent edits', async () => {
    const docId = freshDoc()
    const a = await DocPeer.connect(docId)
    const b = await DocPeer.connect(docId)
    await a.until(() => a.synced)
    await b.until(() => b.synced)
    log(a).push(['a1', 'a2'])
    log(b).push(['b1'])
    await a.until(hasAll(a, ['a1', 'a2', 'b1']))
    await b.until(hasAll(b, ['a1', 'a2', 'b1']))
    expect(log(a).toArray()).toEqual(log(b).toArray())
    a.close()
    b.close()
  })

  it('a client joining later gets the full state', async () => {
    const docId = freshDoc()
    const a = await DocPeer.connect(docId)
    await a.until(() => a.synced)
    const items = Array.from({ length: 50 }, (_, i) => `m${i}`)
    for (const item of items) log(a).push([item])
    const b = await DocPeer.connect(docId)
    await b.until(hasAll(b, items))
    const c = await DocPeer.connect(docId)
    await c.until(hasAll(c, items))
    expect(log(c).toArray()).toEqual(log(a).toArray())
  })

  it('offline edits travel in sync step 2 when a client connects', async () => {
    const docId = freshDoc()
    const offline = new Y.Doc()
    offline.getArray<string>('log').push(['written offline'])
    const a = await DocPeer.connect(docId, { doc: offline })
    const b = await DocPeer.connect(docId)
    await b.until(hasAll(b, ['written offline']))
    a.close()
  })

  it('evicting the room between two updates loses nothing', async () => {
    const docId = freshDoc()
    const a = await DocPeer.connect(docId)
    await a.until(() => a.synced)
    log(a).push(['before eviction'])
    const watcher = await DocPeer.connect(docId)
    await watcher.until(hasAll(watcher, ['before eviction']))
    await evictDurableObject(env.DOC_ROOM.getByName(docId))
    log(a).push(['after eviction'])
    await watcher.until(hasAll(watcher, ['after eviction']))
    await evictDurableObject(env.DOC_ROOM.getByName(docId), { webSockets: 'close' })
    const late = await DocPeer.connect(docId)
    await late.until(hasAll(late, ['before eviction', 'after eviction']))
    expect(log(late).toArray()).toEqual(['before eviction', 'after eviction'])
  })

  it('an update whose dependency the room lacks is not held: the room asks its sender, which sends both', async () => {
    const docId = freshDoc()
    const sender = await DocPeer.connect(docId)
    const watcher = await DocPeer.connect(docId)
    await sender.until(() => sender.synced)
    await watcher.until(() => watcher.synced)
    // The sender's replica gains two updates, of which only the second reaches the room.
    const updates: Uint8Array[] = []
    const replica = new Y.Doc()
    replica.on('update', (u: Uint8Array) => updates.push(u))
    replica.getArray<string>('log').push(['first'])
    replica.getArray<string>('log').push(['second'])
    Y.applyUpdate(sender.doc, updates[0] as Uint8Array, sender) // known to the sender, never sent
    Y.applyUpdate(sender.doc, updates[1] as Uint8Array, sender)
    sender.send(encodeSyncUpdate(updates[1] as Uint8Array))
    // The room answers with sync step 1; the peer's step 2 carries both, and both arrive together.
    await watcher.until(hasAll(watcher, ['first', 'second']))
    expect(log(watcher).toArray()).toEqual(['first', 'second'])
    expect(sender.closed).toBeNull()
    expect(await storedContentHeldBack(docId)).toBe(false)
    await evictDurableObject(env.DOC_ROOM.getByName(docId), { webSockets: 'close' })
    const late = await DocPeer.connect(docId)
    await late.until(hasAll(late, ['first', 'second']))
    expect(log(late).toArray()).toEqual(['first', 'second'])
  })

  it('a read-only socket is told its updates are refused, and they go nowhere', async () => {
    const docId = freshDoc()
    const writer = await DocPeer.connect(docId)
    const reader = await DocPeer.connect(docId, { token: DEV_READ_ONLY_TOKEN })
    await reader.until(() => reader.synced)
    log(reader).push(['sneaky'])
    await reader.until(() => reader.denied.length > 0)
    expect(reader.denied[0]).toMatch(/read-only/)
    log(writer).push(['legit'])
    await reader.until(hasAll(reader, ['legit']))
    await evictDurableObject(env.DOC_ROOM.getByName(docId))
    log(reader).push(['sneaky after hibernation'])
    await reader.until(() => reader.denied.length > 1)
    const late = await DocPeer.connect(docId)
    await late.until(hasAll(late, ['legit']))
    expect(log(late).toArray()).toEqual(['legit'])
    expect(reader.closed).toBeNull()
  })

  it('relays awareness and removes a closed socket’s awareness from the others', async () => {
    const docId = freshDoc()
    const a = await DocPeer.connect(docId)
    const b = await DocPeer.connect(docId)
    a.setPresence({ name: 'Alice', cursor: 3 })
    await b.until(() => b.awareness.has(a.doc.clientID))
    expect(b.awareness.get(a.doc.clientID)).toEqual({ name: 'Alice', cursor: 3 })
    const c = await DocPeer.connect(docId)
    await c.until(() => c.awareness.has(a.doc.clientID))
    a.close()
    await b.until(() => !b.awareness.has(a.doc.clientID))
    await c.until(() => !c.awareness.has(a.doc.clientID))
    expect(b.awareness.size).toBe(0)
  })

  it('awareness survives hibernation and still leaves with its socket', async () => {
    const docId = freshDoc()
    const a = await DocPeer.connect(docId)
    const b = await DocPeer.connect(docId)
    a.setPresence({ name: 'Alice' })
    await b.until(() => b.awareness.has(a.doc.clientID))
    await evictDurableObject(env.DOC_ROOM.getByName(docId))
    const c = await DocPeer.connect(docId)
    await c.until(() => c.awareness.has(a.doc.clientID))
    expect(c.awareness.get(a.doc.clientID)).toEqual({ name: 'Alice' })
    a.close()
    await b.until(() => !b.awareness.has(a.doc.clientID))
  })

  it('a socket may not speak for another socket’s awareness client', async () => {
    const docId = freshDoc()
    const a = await DocPeer.connect(docId)
    const b = await DocPeer.connect(docId)
    a.setPresence({ name: 'Alice' })
    await b.until(() => b.awareness.has(a.doc.clientID))
    b.setPresence({ name: 'Mallory' }, 5, a.doc.clientID)
    expect(await b.closedWith()).toMatchObject({ code: CloseCode.Forbidden })
    const c = await DocPeer.connect(docId)
    await c.until(() => c.awareness.has(a.doc.clientID))
    expect(c.awareness.get(a.doc.clientID)).toEqual({ name: 'Alice' })
  })

  it('typed documents accept writes that fit their schema', async () => {
    const docId = `conversation:${crypto.randomUUID()}`
    const a = await DocPeer.connect(docId)
    const b = await DocPeer.connect(docId)
    Conversation.append(a.doc, { id: 'm1', author: 'alice', text: 'hi', ts: 1 })
    await b.until(() => Conversation.messages(b.doc).length === 1)
    expect(Conversation.messages(b.doc).get(0)).toEqual({ id: 'm1', author: 'alice', text: 'hi', ts: 1 })
    expect(a.closed).toBeNull()
  })
})
