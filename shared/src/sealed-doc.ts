/**
 * End-to-end encrypted ("sealed") documents. Clients encrypt every Yjs
 * update before it leaves them with the document's key (XChaCha20-Poly1305,
 * a random 24-byte nonce, the document id as associated data), so the relay
 * stores and forwards ciphertext it can neither read nor merge. It still
 * orders entries (a sequence number each) and enforces who may write;
 * clients compact by uploading an encrypted snapshot of their merged state
 * that replaces the entries it covers.
 *
 * Socket frames (`/v1/sealed/<docId>`), canonical-CBOR maps:
 *
 *   client → room  { t: "put", c }             append an encrypted update
 *                  { t: "snap", upto: s, c }   an encrypted snapshot replacing entries 1..s
 *   room → client  { t: "entry", s, snap, c }  an entry in order (snap: it is a snapshot)
 *                  { t: "ok", s }              the client's put or snap is stored as s
 *                  { t: "live", s }            catch-up is done; s is the latest sequence
 *                  { t: "err", code, message } a refused write; the socket stays open
 *
 * A client resumes with `?after=<last sequence applied>`.
 *
 * @example
 * ```ts
 * const codec = new SealedDocCodec('notes-1', docKey)
 * ws.send(encodeSealedFrame({ t: 'put', c: codec.seal(update) }))
 * Y.applyUpdate(doc, codec.open(frame.c))
 * ```
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js'
import { randomBytes } from '@noble/hashes/utils.js'
import { decodeCanonical, encodeCanonical } from './canonical.ts'
import { ErrorCode, VivimError } from './errors.ts'

/** The `t` of every sealed document frame. */
export const SealedFrameType = {
  Put: 'put',
  Snapshot: 'snap',
  Entry: 'entry',
  Ok: 'ok',
  Live: 'live',
  Error: 'err',
} as const

/** A frame a client sends to a sealed document room. */
export type SealedClientFrame = { t: 'put'; c: Uint8Array } | { t: 'snap'; upto: number; c: Uint8Array }

/** A frame a sealed document room sends to a client. */
export type SealedServerFrame =
  | { t: 'entry'; s: number; snap: boolean; c: Uint8Array }
  | { t: 'ok'; s: number }
  | { t: 'live'; s: number }
  | { t: 'err'; code: ErrorCode; message: string }

/** A sealed document frame's canonical CBOR. */
export function encodeSealedFrame(frame: SealedClientFrame | SealedServerFrame): Uint8Array {
  return encodeCanonical(frame as never)
}

const isSeq = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0
const keys = (v: Record<string, unknown>) => Object.keys(v).sort().join()

/** Decodes a client's frame; throws on anything else. */
export function decodeSealedClientFrame(bytes: Uint8Array): SealedClientFrame {
  const v = decodeCanonical(bytes) as Record<string, unknown>
  if (v?.t === 'put' && keys(v) === 'c,t' && v.c instanceof Uint8Array) return { t: 'put', c: v.c }
  if (v?.t === 'snap' && keys(v) === 'c,t,upto' && v.c instanceof Uint8Array && isSeq(v.upto)) {
    return { t: 'snap', upto: v.upto, c: v.c }
  }
  throw new Error('expected { t: "put", c } or { t: "snap", upto, c }')
}

/** Decodes a room's frame; throws on anything else. */
export function decodeSealedServerFrame(bytes: Uint8Array): SealedServerFrame {
  const v = decodeCanonical(bytes) as Record<string, unknown>
  if (v?.t === 'entry' && isSeq(v.s) && typeof v.snap === 'boolean' && v.c instanceof Uint8Array) {
    return { t: 'entry', s: v.s, snap: v.snap, c: v.c }
  }
  if ((v?.t === 'ok' || v?.t === 'live') && isSeq(v.s)) return { t: v.t, s: v.s }
  if (v?.t === 'err' && typeof v.code === 'string' && typeof v.message === 'string') {
    return { t: 'err', code: v.code as ErrorCode, message: v.message }
  }
  throw new Error('not a sealed document frame')
}

/** Encrypts and decrypts one document's updates with its key. */
export class SealedDocCodec {
  private readonly key: Uint8Array
  private readonly aad: Uint8Array

  constructor(docId: string, key: Uint8Array) {
    if (key.length !== 32) throw new VivimError(ErrorCode.InvalidKey, 'a document key is 32 bytes')
    this.key = key
    this.aad = encodeCanonical({ v: 'vivim-sealed-doc/1', doc: docId })
  }

  /** Encrypts one Yjs update: nonce ‖ ciphertext. */
  seal(update: Uint8Array): Uint8Array {
    const nonce = randomBytes(24)
    const ct = xchacha20poly1305(this.key, nonce, this.aad).encrypt(update)
    const out = new Uint8Array(24 + ct.length)
    out.set(nonce)
    out.set(ct, 24)
    return out
  }

  /** Decrypts an entry; throws `decrypt_failed`. */
  open(sealed: Uint8Array): Uint8Array {
    try {
      return xchacha20poly1305(this.key, sealed.subarray(0, 24), this.aad).decrypt(sealed.subarray(24))
    } catch {
      throw new VivimError(ErrorCode.DecryptFailed, 'this entry does not open with the document key')
    }
  }
}
