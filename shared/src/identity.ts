/**
 * Identities are Ed25519 key pairs named by `did:key` DIDs
 * (https://w3c-ccg.github.io/did-method-key/): the multicodec prefix
 * `ed25519-pub` (0xed, varint `0xed 0x01`) followed by the 32-byte public
 * key, in multibase base58btc (leading `z`).
 *
 * @example
 * ```ts
 * import { generateIdentity, sign, verify } from '@vivim/shared'
 * const alice = generateIdentity()
 * const sig = sign(alice, new TextEncoder().encode('hi'))
 * await verifyAsync(alice.did, new TextEncoder().encode('hi'), sig) // true
 * ```
 */
import { ed25519 } from '@noble/curves/ed25519.js'
import { base58 } from '@scure/base'
import { type Ed25519Backend, signEd25519Async, verifyEd25519, verifyEd25519Async } from './ed25519.ts'
import { ErrorCode, VivimError } from './errors.ts'

/** A did:key DID, `did:key:z6Mk…`. */
export type Did = `did:key:z${string}`

/** An Ed25519 key pair and the did:key that names it. */
export interface Identity {
  readonly did: Did
  readonly publicKey: Uint8Array
  /** The 32-byte Ed25519 seed (RFC 8032 private key). */
  readonly secretKey: Uint8Array
}

const DID_KEY_PREFIX = 'did:key:z'
const ED25519_PUB_MULTICODEC = Uint8Array.of(0xed, 0x01)
/** Length of an Ed25519 public key. */
export const ED25519_PUBLIC_KEY_BYTES = 32
/** Length of an Ed25519 signature. */
export const ED25519_SIGNATURE_BYTES = 64

/**
 * A new identity from a random seed.
 *
 * @example
 * ```ts
 * const alice = generateIdentity()
 * alice.did // 'did:key:z6Mk…'
 * ```
 */
export function generateIdentity(): Identity {
  return identityFromSecretKey(ed25519.utils.randomSecretKey())
}

/** The identity of a 32-byte Ed25519 seed; throws `invalid_key`. */
export function identityFromSecretKey(secretKey: Uint8Array): Identity {
  if (secretKey.length !== 32) {
    throw new VivimError(ErrorCode.InvalidKey, 'an Ed25519 secret key is 32 bytes')
  }
  const publicKey = ed25519.getPublicKey(secretKey)
  return { did: didFromPublicKey(publicKey), publicKey, secretKey: secretKey.slice() }
}

/** The did:key of an Ed25519 public key. */
export function didFromPublicKey(publicKey: Uint8Array): Did {
  if (publicKey.length !== ED25519_PUBLIC_KEY_BYTES) {
    throw new VivimError(ErrorCode.InvalidDid, 'an Ed25519 public key is 32 bytes')
  }
  const bytes = new Uint8Array(ED25519_PUB_MULTICODEC.length + publicKey.length)
  bytes.set(ED25519_PUB_MULTICODEC)
  bytes.set(publicKey, ED25519_PUB_MULTICODEC.length)
  return `${DID_KEY_PREFIX}${base58.encode(bytes)}` as Did
}

/** The Ed25519 public key a did:key names; throws `invalid_did`. */
export function publicKeyFromDid(did: string): Uint8Array {
  if (!did.startsWith(DID_KEY_PREFIX)) {
    throw new VivimError(ErrorCode.InvalidDid, 'expected a did:key DID in base58btc (did:key:z…)')
  }
  let bytes: Uint8Array
  try {
    bytes = base58.decode(did.slice(DID_KEY_PREFIX.length))
  } catch (cause) {
    throw new VivimError(ErrorCode.InvalidDid, 'did:key is not valid base58btc', { cause })
  }
  if (
    bytes.length !== ED25519_PUB_MULTICODEC.length + ED25519_PUBLIC_KEY_BYTES ||
    bytes[0] !== ED25519_PUB_MULTICODEC[0] ||
    bytes[1] !== ED25519_PUB_MULTICODEC[1]
  ) {
    throw new VivimError(ErrorCode.InvalidDid, 'did:key is not an Ed25519 public key')
  }
  return bytes.slice(ED25519_PUB_MULTICODEC.length)
}

/** Whether a value is a valid Ed25519 did:key. */
export function isDid(value: unknown): value is Did {
  if (typeof value !== 'string') return false
  try {
    publicKeyFromDid(value)
    return true
  } catch {
    return false
  }
}

/** Signs `message` with the identity's Ed25519 key. */
export function sign(signer: Pick<Identity, 'secretKey'>, message: Uint8Array): Uint8Array {
  return ed25519.sign(message, signer.secretKey)
}

/** Signs `message` like `sign`, with the platform's WebCrypto where it has Ed25519 (the same bytes). */
export function signAsync(signer: Pick<Identity, 'secretKey'>, message: Uint8Array): Promise<Uint8Array> {
  return signEd25519Async(signer.secretKey, message)
}

function signerKey(signer: string | Uint8Array): Uint8Array | null {
  try {
    return typeof signer === 'string' ? publicKeyFromDid(signer) : signer
  } catch {
    return null
  }
}

/**
 * Checks an Ed25519 signature by the key a DID names, with `@noble/curves`,
 * synchronously. Follows RFC 8032's strict rules (`ed25519.ts`: S < L,
 * canonical A and R, no small-order A or R, A in the prime-order subgroup),
 * so it gives the same verdict as `verifyAsync`; never throws on malformed
 * input. Prefer `verifyAsync`, which is native where the platform can.
 */
export function verify(signer: string | Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  const publicKey = signerKey(signer)
  return publicKey !== null && verifyEd25519(publicKey, message, signature)
}

/** What `verifyAsync` may be told. */
export interface VerifyOptions {
  /** Force a backend (tests); by default WebCrypto where the platform has Ed25519, else noble. */
  backend?: Ed25519Backend
}

/**
 * Checks an Ed25519 signature by the key a DID names, with RFC 8032's strict
 * rules, natively (WebCrypto) where the platform can and with
 * `@noble/curves` where it cannot; resolves false, never rejects, on
 * malformed input.
 */
export async function verifyAsync(
  signer: string | Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
  options: VerifyOptions = {},
): Promise<boolean> {
  const publicKey = signerKey(signer)
  return publicKey !== null && verifyEd25519Async(publicKey, message, signature, options.backend)
}
