import { env, runInDurableObject } from 'cloudflare:test'
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js'
import {
  CloseCode,
  decodeSealedServerFrame,
  ErrorCode,
  encodeSealedFrame,
  SealedDocCodec,
  type SealedServerFrame,
} from '@vivim/shared'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { DEV_READ_ONLY_TOKEN } from '../http/access.ts'
import { type Closed, openSocket } from './doc-peer.ts'
import { Waiters } from './waiters.ts'

/** A client of a sealed document: encrypts what it writes, decrypts what it receives. */
class SealedPeer {
  readonly doc = new Y.Doc()
  readonly frames: SealedServerFrame[] = []
  closed: Closed | null = null
  applied = 0
  private readonly waiters = new Waiters()

  readonly ws: WebSocket
  readonly codec: SealedDocCodec
  /** Entries that did not open with this client's key. */
  undecryptable = 0

  private constructor(ws: WebSocket, codec: SealedDocCodec) {
    this.ws = ws
    this.codec = codec
    ws.addEventListener('message', (event) => {
      const frame = decodeSealedServerFrame(new Uint8Array(event.data as ArrayBuffer))
      this.frames.push(frame)
      if (frame.t === 'entry') {
        try {
          Y.applyUpdate(this.doc, codec.open(frame.c), this)
          this.applied = frame.s
        } catch {
          this.undecryptable++
        }
      }
      this.waiters.notify()
    })
    ws.addEventListener('close', (event) => {
      this.closed = { code: event.code, reason: event.reason }
      this.waiters.notify()
    })
    this.doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin !== this) ws.send(encodeSealedFrame({ t: 'put', c: codec.seal(update) }))
    })
  }

  static async connect(docId: string, key: Uint8Array, options: { after?: number; token?: string } = {}) {
    const query = new URLSearchParams()
    if (options.after !== undefined) query.set('after', String(options.after))
    if (options.token !== undefined) query.set('token', options.token)
    return new SealedPeer(await openSocket(`/v1/sealed/${docId}?${query}`), new SealedDocCodec(docId, key))
  }

  of<T extends SealedServerFrame['t']>(t: T) {
    return this.frames.filter((f): f is Extract<SealedServerFrame, { t: T }> => f.t === t)
  }

  until(predicate: () => boolean): Promise<void> {
    return this.waiters.until(predicate)
  }

  /** Uploads an encrypted snapshot of everything applied so far. */
  compact(): number {
    const upto = Math.max(this.applied, ...this.of('ok').map((o) => o.s))
    this.ws.send(encodeSealedFrame({ t: 'snap', upto, c: this.codec.seal(Y.encodeStateAsUpdate(this.doc)) }))
    return upto
  }
}

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
    b.ws.close()
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
    a.ws.send(encodeSealedFrame({ t: 'snap', upto: 5, c: a.codec.seal(Y.encodeStateAsUpdate(a.doc)) }))
    await a.until(() => a.of('err').length === 1)
    expect(a.of('err')[0]?.code).toBe(ErrorCode.BadRequest)
    a.compact()
    await a.until(() => a.of('ok').length === 2)
    a.compact()
    await a.until(() => a.of('err').length === 2)
    expect(a.of('err')[1]?.code).toBe(ErrorCode.Conflict)
    a.ws.send(new Uint8Array([1, 2, 3]))
    await a.until(() => a.closed !== null)
    expect(a.closed?.code).toBe(CloseCode.BadFrame)
  })
})
