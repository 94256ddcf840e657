/**
 * The key manager's formats. An identity's one secret is its 32-byte Ed25519
 * seed; it signs with Ed25519 and agrees keys with the X25519 key derived
 * from the same seed (the birational map the did:key specification uses for
 * its `keyAgreement` key), so anyone can encrypt to a DID without looking up
 * a second key, and backing up an identity is backing up one seed.
 *
 * Export format (`exportKeys`): JSON `{ "v": "vivim-keys/1", "seed": base64url }`.
 *
 * @example
 * ```ts
 * import { agreementKeyPair, agreementPublicKeyOf, exportKeys, importKeys } from '@vivim/shared'
 * const text = exportKeys(alice)          // store it (IndexedDB, or a 0600 file)
 * const again = importKeys(text)          // the same identity
 * agreementPublicKeyOf(alice.did)         // X25519 public key, from the DID alone
 * ```
 */
import { ed25519, x25519 } from '@noble/curves/ed25519.js'
import { base64urlnopad } from '@scure/base'
import { ErrorCode, VivimError } from './errors.ts'
import { type Identity, identityFromSecretKey, publicKeyFromDid } from './identity.ts'

/** The `v` of exported keys. */
export const KEYS_FORMAT = 'vivim-keys/1'

/** An X25519 key pair for key agreement. */
export interface AgreementKeyPair {
  readonly publicKey: Uint8Array
  readonly secretKey: Uint8Array
}

/** The identity's X25519 key pair. */
export function agreementKeyPair(identity: Pick<Identity, 'secretKey'>): AgreementKeyPair {
  const secretKey = ed25519.utils.toMontgomerySecret(identity.secretKey)
  return { secretKey, publicKey: x25519.getPublicKey(secretKey) }
}

/** The X25519 public key of a did:key, derived from its Ed25519 key. */
export function agreementPublicKeyOf(did: string): Uint8Array {
  return ed25519.utils.toMontgomery(publicKeyFromDid(did))
}

/** The identity's secret as text: `{ "v": "vivim-keys/1", "seed": base64url }`. Keep it secret. */
export function exportKeys(identity: Pick<Identity, 'secretKey'>): string {
  return JSON.stringify({ v: KEYS_FORMAT, seed: base64urlnopad.encode(identity.secretKey) })
}

/** The identity of exported keys; throws `invalid_key`. */
export function importKeys(text: string): Identity {
  let parsed: { v?: unknown; seed?: unknown }
  try {
    parsed = JSON.parse(text)
  } catch (cause) {
    throw new VivimError(ErrorCode.InvalidKey, 'exported keys are JSON', { cause })
  }
  if (parsed?.v !== KEYS_FORMAT || typeof parsed.seed !== 'string') {
    throw new VivimError(ErrorCode.InvalidKey, `exported keys are { "v": "${KEYS_FORMAT}", "seed": base64url }`)
  }
  let seed: Uint8Array
  try {
    seed = base64urlnopad.decode(parsed.seed)
  } catch (cause) {
    throw new VivimError(ErrorCode.InvalidKey, 'seed is not base64url', { cause })
  }
  return identityFromSecretKey(seed)
}
