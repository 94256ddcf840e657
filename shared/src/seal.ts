/**
 * Sealed messages: encryption to one recipient's DID that only they can
 * open. An ephemeral X25519 key agrees a secret with the recipient's
 * agreement key; HKDF-SHA-256 (salt: both public keys; info:
 * "vivim-seal/1") turns it into a key for XChaCha20-Poly1305 with a random
 * 24-byte nonce, the two public keys as associated data. The sender is
 * anonymous unless the plaintext says otherwise (sign inside if it must).
 *
 * Wire form: the canonical encoding of `{ v: "vivim-seal/1", epk, nonce, ct }`.
 *
 * @example
 * ```ts
 * import { seal, openSealed } from '@vivim/shared'
 * const box = seal(bob.did, utf8ToBytes('for Bob only'))
 * openSealed(bob, box) // Uint8Array of 'for Bob only'
 * ```
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js'
import { x25519 } from '@noble/curves/ed25519.js'
import { hkdf } from '@noble/hashes/hkdf.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { concatBytes, randomBytes, utf8ToBytes } from '@noble/hashes/utils.js'
import { decodeCanonical, encodeCanonical } from './canonical.ts'
import { ErrorCode, VivimError } from './errors.ts'
import type { Identity } from './identity.ts'
import { agreementKeyPair, agreementPublicKeyOf } from './keys.ts'

/** The `v` of a sealed message, and the HKDF info. */
export const SEAL_FORMAT = 'vivim-seal/1'
const INFO = utf8ToBytes(SEAL_FORMAT)

function sealKey(shared: Uint8Array, epk: Uint8Array, rpk: Uint8Array): Uint8Array {
  return hkdf(sha256, shared, concatBytes(epk, rpk), INFO, 32)
}

/** Encrypts `plaintext` so that only `recipientDid` can open it (`openSealed`). */
export function seal(recipientDid: string, plaintext: Uint8Array): Uint8Array {
  const rpk = agreementPublicKeyOf(recipientDid)
  const esk = x25519.utils.randomSecretKey()
  const epk = x25519.getPublicKey(esk)
  const key = sealKey(x25519.getSharedSecret(esk, rpk), epk, rpk)
  const nonce = randomBytes(24)
  const ct = xchacha20poly1305(key, nonce, concatBytes(epk, rpk)).encrypt(plaintext)
  return encodeCanonical({ v: SEAL_FORMAT, epk, nonce, ct })
}

/** Opens a sealed message addressed to `recipient`; throws `decrypt_failed` for anything else. */
export function openSealed(recipient: Pick<Identity, 'secretKey'>, sealed: Uint8Array): Uint8Array {
  const fail = () => new VivimError(ErrorCode.DecryptFailed, 'cannot open this sealed message')
  let box: Record<string, unknown>
  try {
    box = decodeCanonical(sealed) as Record<string, unknown>
  } catch {
    throw fail()
  }
  const { epk, nonce, ct } = box
  if (box.v !== SEAL_FORMAT || !(epk instanceof Uint8Array) || epk.length !== 32) throw fail()
  if (!(nonce instanceof Uint8Array) || nonce.length !== 24 || !(ct instanceof Uint8Array)) throw fail()
  const mine = agreementKeyPair(recipient)
  try {
    const key = sealKey(x25519.getSharedSecret(mine.secretKey, epk), epk, mine.publicKey)
    return xchacha20poly1305(key, nonce, concatBytes(epk, mine.publicKey)).decrypt(ct)
  } catch {
    throw fail()
  }
}
