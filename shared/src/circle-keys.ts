/**
 * Circle keys: one symmetric key per circle per epoch, sealed to each
 * member's DID, and replaced by a fresh one (next epoch, sealed to the
 * remaining members only) whenever a member is removed, so a removed member
 * cannot read anything written after the removal. Members keep older epochs
 * in a key ring to read history.
 *
 * Message wire form: canonical `{ v: "vivim-circle/1", circle, epoch, nonce, ct }`,
 * XChaCha20-Poly1305 with `{ circle, epoch }` (canonical) as associated data,
 * so a ciphertext cannot be replayed into another circle or epoch.
 *
 * @example
 * ```ts
 * const k0 = createCircleKey('book-club')
 * const sealedFor = wrapCircleKey(k0, [alice.did, bob.did])
 * const ring = new CircleKeyRing([unwrapCircleKey(bob, sealedFor[bob.did])])
 * decryptForCircle(ring, encryptForCircle(k0, utf8ToBytes('hi')))
 * ```
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js'
import { randomBytes } from '@noble/hashes/utils.js'
import { decodeCanonical, encodeCanonical } from './canonical.ts'
import { ErrorCode, VivimError } from './errors.ts'
import type { Identity } from './identity.ts'
import { openSealed, seal } from './seal.ts'

/** The `v` of a message encrypted for a circle. */
export const CIRCLE_MESSAGE_FORMAT = 'vivim-circle/1'
/** The `v` of a circle key sealed to a member. */
export const CIRCLE_KEY_FORMAT = 'vivim-circle-key/1'

/** A circle's 32-byte key for one epoch. */
export interface CircleKey {
  readonly circle: string
  readonly epoch: number
  readonly key: Uint8Array
}

/** A new random key for `circle` at `epoch`. */
export function createCircleKey(circle: string, epoch = 0): CircleKey {
  return { circle, epoch, key: randomBytes(32) }
}

/** The key sealed to each member, by DID. */
export function wrapCircleKey(key: CircleKey, members: readonly string[]): Record<string, Uint8Array> {
  const plain = encodeCanonical({ v: CIRCLE_KEY_FORMAT, circle: key.circle, epoch: key.epoch, key: key.key })
  return Object.fromEntries(members.map((did) => [did, seal(did, plain)]))
}

/** Opens a circle key sealed to `member` (`wrapCircleKey`); throws `decrypt_failed`. */
export function unwrapCircleKey(member: Pick<Identity, 'secretKey'>, wrapped: Uint8Array): CircleKey {
  const v = decodeCanonical(openSealed(member, wrapped)) as Record<string, unknown>
  if (
    v.v !== CIRCLE_KEY_FORMAT ||
    typeof v.circle !== 'string' ||
    !Number.isSafeInteger(v.epoch) ||
    !(v.key instanceof Uint8Array) ||
    v.key.length !== 32
  ) {
    throw new VivimError(ErrorCode.DecryptFailed, 'not a circle key')
  }
  return { circle: v.circle, epoch: v.epoch as number, key: v.key }
}

/** A member was removed: the next epoch's key, sealed to those who remain. */
export function rotateCircleKey(
  current: CircleKey,
  remaining: readonly string[],
): { key: CircleKey; wrapped: Record<string, Uint8Array> } {
  const key = createCircleKey(current.circle, current.epoch + 1)
  return { key, wrapped: wrapCircleKey(key, remaining) }
}

const aad = (circle: string, epoch: number) => encodeCanonical({ circle, epoch })

/** Encrypts for every member holding `key`: canonical `{ v, circle, epoch, nonce, ct }`. */
export function encryptForCircle(key: CircleKey, plaintext: Uint8Array): Uint8Array {
  const nonce = randomBytes(24)
  const ct = xchacha20poly1305(key.key, nonce, aad(key.circle, key.epoch)).encrypt(plaintext)
  return encodeCanonical({ v: CIRCLE_MESSAGE_FORMAT, circle: key.circle, epoch: key.epoch, nonce, ct })
}

/** The epochs of one circle a member holds. */
export class CircleKeyRing {
  private readonly keys = new Map<string, CircleKey>()

  constructor(keys: readonly CircleKey[] = []) {
    for (const k of keys) this.add(k)
  }

  /** Keeps a key (a new epoch, or one received late). */
  add(key: CircleKey): void {
    this.keys.set(`${key.circle}\u0000${key.epoch}`, key)
  }

  /** The key of `circle` at `epoch`, if held. */
  get(circle: string, epoch: number): CircleKey | undefined {
    return this.keys.get(`${circle}\u0000${epoch}`)
  }
}

/** Decrypts a circle message with the ring's key for its epoch; throws `decrypt_failed`. */
export function decryptForCircle(ring: CircleKeyRing, message: Uint8Array): Uint8Array {
  const fail = (why: string) => new VivimError(ErrorCode.DecryptFailed, why)
  let m: Record<string, unknown>
  try {
    m = decodeCanonical(message) as Record<string, unknown>
  } catch {
    throw fail('not a circle message')
  }
  const { circle, epoch, nonce, ct } = m
  if (m.v !== CIRCLE_MESSAGE_FORMAT || typeof circle !== 'string' || !Number.isSafeInteger(epoch)) {
    throw fail('not a circle message')
  }
  if (!(nonce instanceof Uint8Array) || nonce.length !== 24 || !(ct instanceof Uint8Array)) {
    throw fail('not a circle message')
  }
  const key = ring.get(circle, epoch as number)
  if (!key) throw fail(`no key for epoch ${epoch} of this circle`)
  try {
    return xchacha20poly1305(key.key, nonce, aad(circle, epoch as number)).decrypt(ct)
  } catch {
    throw fail('the message does not open with this circle key')
  }
}
