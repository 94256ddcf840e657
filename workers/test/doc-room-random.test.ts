/**
 * Seeded random tests, in the manner of Yjs' own: honest writers with their
 * own DIDs edit one conversation concurrently while the network drops and
 * reorders their updates on the way to the room. The room applies what it
 * can, drops what depends on missing content and asks for it again; at the
 * end every replica must agree, and no honest socket may have been closed.
 */
import {
  Conversation,
  decodeDocMessage,
  encodeSyncStep2,
  encodeSyncUpdate,
  generateIdentity,
  type Identity,
  MessageType,
  SyncType,
} from '@vivim/shared'
import * as prng from 'lib0/prng'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { docToken } from './doc-tokens.ts'
import { binary, openSocket, SocketPeer } from './socket-peer.ts'

/** A replica whose outgoing updates wait in a queue the test delivers out of order, or drops. */
class LossyPeer extends SocketPeer<Uint8Array> {
  readonly doc = new Y.Doc()
  readonly queue: Uint8Array[] = []
  /** Sync step 1 frames received: the first on connect, every other one the room asking for what it lacks. */
  stepOnes = 0
  readonly who: Identity

  private constructor(who: Identity, ws: WebSocket) {
    super(ws, binary)
    this.who = who
    this.doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin !== this) this.queue.push(update)
    })
  }

  static async connect(owner: Identity, who: Identity, docId: string): Promise<LossyPeer> {
    const token = docToken(owner, who, docId, ['read', 'write'])
    return new LossyPeer(who, await openSocket(`/v1/docs/${docId}?token=${encodeURIComponent(token)}`))
  }

  protected override receive(frame: Uint8Array): void {
    const msg = decodeDocMessage(frame)
    if (msg.type !== MessageType.Sync) return
    if (msg.syncType === SyncType.Step1) this.stepOnes++
    if (msg.syncType === SyncType.Step1) this.send(encodeSyncStep2(Y.encodeStateAsUpdate(this.doc, msg.data)))
    else Y.applyUpdate(this.doc, msg.data, this)
  }

  /** Sends what is queued in a random order, dropping each update with probability `loss`. */
  deliver(gen: prng.PRNG, loss: number): void {
    const batch = this.queue.splice(0)
    for (let i = batch.length - 1; i > 0; i--) {
      const j = prng.int32(gen, 0, i)
      ;[batch[i], batch[j]] = [batch[j] as Uint8Array, batch[i] as Uint8Array]
    }
    for (const update of batch) if (prng.real53(gen) >= loss) this.send(encodeSyncUpdate(update))
  }

  /** Sends the whole replica, as a client does after a reconnect. */
  resync(): void {
    this.send(encodeSyncUpdate(Y.encodeStateAsUpdate(this.doc)))
  }

  edit(gen: prng.PRNG, step: number): void {
    const mine = Conversation.messages(this.doc)
      .toArray()
      .map((m, index) => ({ m, index }))
      .filter(({ m }) => m.author === this.who.did)
    const roll = prng.int32(gen, 0, 9)
    if (roll < 6 || mine.length === 0) {
      Conversation.append(this.doc, {
        id: `${this.who.did.slice(-6)}-${step}`,
        author: this.who.did,
        text: `${step}`,
        ts: step,
      })
    } else {
      const { m, index } = mine[prng.int32(gen, 0, mine.length - 1)] as (typeof mine)[number]
      this.doc.transact(() => {
        Conversation.messages(this.doc).delete(index, 1)
        if (roll < 9) Conversation.messages(this.doc).insert(index, [{ ...m, text: `${m.text} (edited ${step})` }])
      })
    }
  }
}

const converged = (peers: LossyPeer[]) => {
  const [first, ...rest] = peers.map((p) => JSON.stringify(Conversation.messages(p.doc).toJSON()))
  const vectors = peers.map((p) => Y.encodeStateVector(p.doc).join(','))
  return rest.every((r) => r === first) && vectors.every((v) => v === vectors[0])
}

/** Resolves once `predicate` holds, checked again whenever any of `peers` receives a frame or is closed. */
const until = (peers: LossyPeer[], predicate: () => boolean) => Promise.race(peers.map((p) => p.until(predicate)))

describe('seeded random concurrent editing through a lossy network', () => {
  it.each([1, 2, 3, 4])('seed %i: every replica agrees and no honest socket is closed', async (seed) => {
    const gen = prng.create(seed)
    const docId = `conversation:random-${seed}-${crypto.randomUUID()}`
    const owner = generateIdentity()
    const peers: LossyPeer[] = [await LossyPeer.connect(owner, owner, docId)]
    for (let i = 0; i < 3; i++) peers.push(await LossyPeer.connect(owner, generateIdentity(), docId))
    for (let step = 0; step < 60; step++) {
      const peer = peers[prng.int32(gen, 0, peers.length - 1)] as LossyPeer
      peer.edit(gen, step)
      if (prng.bool(gen)) peer.deliver(gen, 0.25)
      if (step % 10 === 9) await new Promise((resolve) => setTimeout(resolve, 20))
    }
    for (const peer of peers) peer.deliver(gen, 0.25)
    for (const peer of peers) peer.resync()
    await until(peers, () => converged(peers) || peers.some((p) => p.closed !== null))
    expect(peers.map((p) => p.closed)).toEqual(peers.map(() => null))
    expect(converged(peers)).toBe(true)
    // The lossy path ran: the room asked some sender for content it lacked.
    expect(peers.some((p) => p.stepOnes > 1)).toBe(true)
    expect(Conversation.messages(peers[0]?.doc as Y.Doc).length).toBeGreaterThan(0)
  })
})
