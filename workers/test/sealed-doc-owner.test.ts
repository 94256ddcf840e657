import { env } from 'cloudflare:test'
import {
  type Action,
  type Capability,
  decodeSealedServerFrame,
  ErrorCode,
  encodeCapabilityText,
  encodeSealedFrame,
  generateIdentity,
  type Identity,
  issueCapability,
  type SealedServerFrame,
} from '@vivim/shared'
import { describe, expect, it } from 'vitest'
import { edgeIdentity } from '../auth/edge-identity.ts'
import { DocPeer, openSocket } from './doc-peer.ts'
import { Waiters } from './waiters.ts'

const edge = edgeIdentity(env)
const alice = generateIdentity()
const bob = generateIdentity()
const EXP = Date.now() + 3_600_000

const token = (issuer: Identity, res: string, can: Action[], prf?: Capability) =>
  encodeCapabilityText(issueCapability(issuer, { aud: edge.did, res, can, exp: EXP, prf: prf ? [prf] : [] }))

/** A raw sealed socket: the room never decrypts, so any bytes serve as ciphertext. */
class SealedSocket {
  readonly frames: SealedServerFrame[] = []
  private readonly waiters = new Waiters()
  readonly ws: WebSocket
  private constructor(ws: WebSocket) {
    this.ws = ws
    ws.addEventListener('message', (event) => {
      this.frames.push(decodeSealedServerFrame(new Uint8Array(event.data as ArrayBuffer)))
      this.waiters.notify()
    })
  }

  static async open(docId: string, credential: string): Promise<SealedSocket> {
    return new SealedSocket(await openSocket(`/v1/sealed/${docId}?token=${credential}`))
  }

  /** Sends a frame and resolves with the room's answer to it (`ok` or `err`). */
  async request(frame: Parameters<typeof encodeSealedFrame>[0]): Promise<SealedServerFrame> {
    const answered = this.frames.filter((f) => f.t === 'ok' || f.t === 'err').length
    this.ws.send(encodeSealedFrame(frame))
    await this.waiters.until(() => this.frames.filter((f) => f.t === 'ok' || f.t === 'err').length > answered)
    return this.frames.filter((f) => f.t === 'ok' || f.t === 'err')[answered] as SealedServerFrame
  }

  /** Resolves with the entries and `live` the room sends a fresh connection. */
  async history(): Promise<SealedServerFrame[]> {
    await this.waiters.until(() => this.frames.some((f) => f.t === 'live'))
    return this.frames.filter((f) => f.t === 'entry' || f.t === 'live')
  }
}

describe('sealed document history', () => {
  it('a plain writer’s snapshot is refused and the history stays whole; the owner’s is stored', async () => {
    const docId = `circle:${crypto.randomUUID()}`
    const res = `doc:${docId}`
    await DocPeer.connect(docId, { token: token(alice, res, ['admin']) })
    const toBob = issueCapability(alice, { aud: bob.did, res, can: ['read', 'write'], exp: EXP })
    const writer = await SealedSocket.open(docId, token(bob, res, ['read', 'write'], toBob))
    expect(await writer.request({ t: 'put', c: new Uint8Array([1]) })).toEqual({ t: 'ok', s: 1 })
    expect(await writer.request({ t: 'put', c: new Uint8Array([2]) })).toEqual({ t: 'ok', s: 2 })
    expect(await writer.request({ t: 'snap', upto: 2, c: new Uint8Array([9]) })).toMatchObject({
      t: 'err',
      code: ErrorCode.Forbidden,
    })
    const owner = await SealedSocket.open(docId, token(alice, res, ['read', 'write']))
    expect(await owner.history()).toEqual([
      { t: 'entry', s: 1, snap: false, c: new Uint8Array([1]) },
      { t: 'entry', s: 2, snap: false, c: new Uint8Array([2]) },
      { t: 'live', s: 2 },
    ])
    expect(await owner.request({ t: 'snap', upto: 2, c: new Uint8Array([9]) })).toEqual({ t: 'ok', s: 2 })
  })
})
