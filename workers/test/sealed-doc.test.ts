import { env, runInDurableObject } from 'cloudflare:test'
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js'
import { CloseCode, ErrorCode, encodeSealedFrame } from '@vivim/shared'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { DEV_READ_ONLY_TOKEN } from '../http/access.ts'
import { SealedPeer } from './sealed-peer.ts'

const key = crypto.getRandomValues(new Uint8Array(32))
const notes = (p: SealedPeer) => p.doc.getArray<string>('notes')
const has = (p: SealedPeer, items: string[]) => () => items.every((i) => notes(p).toArray().includes(i))

async function storedBlob(docId: string): Promise<string> {
  return runInDurableObject(env.SEALED_DOC_ROOM.getByName(docId), (_, state) =>
    state.storage.sql
      .exec<{ data: ArrayBuffer }>('SELECT data FROM sealed_entries')
      .toArray()
      .map((r) => bytesToHex(new Uint8Array(r.data)))
      .join(''),
  )
}

describe('sealed (end-to-end encrypted) documents', () => {
  it('two clients converge while the relay stores none of the plaintext', async () => {
    const docId = `sealed-${crypto.randomUUID()}`
    const a = await SealedPeer.connect(docId, key)
    const b = await SealedPeer.connect(docId, key)
    notes(a).push(['meet at the secret garden'])
    notes(b).push(['bring the hidden map'])
    const all = ['meet at the secret garden', 'bring the hidden map']
    await a.until(has(a, all))
    await b.until(has(b, all))
    expect(notes(a).toArray()).toEqual(notes(b).toArray())
    const stored = await storedBlob(docId)
    expect(stored.length).toBeGreaterThan(0)
    for (const secret of ['secret garden', 'hidden map']) expect(stored).not.toContain(bytesToHex(utf8ToBytes(secret)))
  })

  it('clients converge after a compaction, including one that resumes from before it', async () => {
    const docId = `sealed-${crypto.randomUUID()}`
    const a = await SealedPeer.connect(docId, key)
    const b = await SealedPeer.connect(docId, key)
    for (let i = 0; i < 20; i++) notes(a).push([`n${i}`])
    await b.until(has(b, ['n19']))
    const bSawUpTo = b.applied
    b.close()
    notes(a).push(['after b left'])
    await a.until(() => a.of('ok').length === 21)
    const upto = a.compact()
    await a.until(() => a.of('ok').some((o) => o.s === upto && a.of('ok').length === 22))
    notes(a).push(['after compaction'])
    await a.until(() => a.of('ok').length === 23)
    const rows = await runInDurableObject(
      env.SEALED_DOC_ROOM.getByName(docId),
      (_, state) => state.storage.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM sealed_entries').one().n,
    )
    expect(rows).toBe(2)
    const fresh = await SealedPeer.connect(docId, key)
    const resumed = await SealedPeer.connect(docId, key, { after: bSawUpTo })
    Y.applyUpdate(resumed.doc, Y.encodeStateAsUpdate(b.doc), resumed)
    for (const p of [fresh, resumed]) {
      await p.until(() => p.of('live').length === 1)
      expect(notes(p).toArray()).toEqual(notes(a).toArray())
    }
  })

  it('a client without the key cannot read, and a read-only client cannot write', async () => {
    const docId = `sealed-${crypto.randomUUID()}`
    const a = await SealedPeer.connect(docId, key)
    notes(a).push(['private'])
    await a.until(() => a.of('ok').length === 1)
    const outsider = await SealedPeer.connect(docId, crypto.getRandomValues(new Uint8Array(32)))
    await outsider.until(() => outsider.of('live').length === 1)
    expect(outsider.undecryptable).toBe(1)
    expect(notes(outsider).length).toBe(0)
    const reader = await SealedPeer.connect(docId, key, { token: DEV_READ_ONLY_TOKEN })
    await reader.until(() => reader.of('live').length === 1)
    notes(reader).push(['sneaky'])
    await reader.until(() => reader.of('err').length === 1)
    expect(reader.of('err')[0]?.code).toBe(ErrorCode.Forbidden)
  })

  it('refuses bad frames and stale snapshots', async () => {
    const docId = `sealed-${crypto.randomUUID()}`
    const a = await SealedPeer.connect(docId, key)
    notes(a).push(['x'])
    await a.until(() => a.of('ok').length === 1)
    a.send(encodeSealedFrame({ t: 'snap', upto: 5, c: a.codec.seal(Y.encodeStateAsUpdate(a.doc)) }))
    await a.until(() => a.of('err').length === 1)
    expect(a.of('err')[0]?.code).toBe(ErrorCode.BadRequest)
    a.compact()
    await a.until(() => a.of('ok').length === 2)
    a.compact()
    await a.until(() => a.of('err').length === 2)
    expect(a.of('err')[1]?.code).toBe(ErrorCode.Conflict)
    a.send(new Uint8Array([1, 2, 3]))
    expect((await a.closedWith()).code).toBe(CloseCode.BadFrame)
  })
})
