/**
 * Writes the language-neutral test vectors under `shared/fixtures/`: every
 * case names its inputs in hex or text, whether it is valid, and when not,
 * the error code an implementation must give. Identities come from fixed
 * seeds; the vectors are generated once and committed, and the suite checks
 * this implementation against them (`shared/test/fixtures.test.ts`), so a
 * change that would break another implementation fails here first.
 *
 *   node scripts/generate-fixtures.ts               every file
 *   node scripts/generate-fixtures.ts topics.json   only the files named
 *
 * Naming files matters for `encryption.json`, whose ciphertexts are random:
 * regenerate it only when its format changes.
 */
import { writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js'
import {
  type Action,
  type Capability,
  capabilitySigningBytes,
  createCircleKey,
  createRecord,
  encodeCanonical,
  encodeCapability,
  encodeEnvelope,
  encodeRecord,
  encodeTopicFrame,
  encryptForCircle,
  envelopeSigningBytes,
  formatRecordKey,
  identityFromSecretKey,
  messageId,
  seal,
  sign,
  type TopicEnvelope,
  wrapCircleKey,
} from '../shared/src/index.ts'
import { ed25519StrictVectors } from './ed25519-vectors.ts'

const out = resolve(import.meta.dirname, '..', 'shared', 'fixtures')
const id = (n: number) => identityFromSecretKey(hexToBytes(n.toString(16).padStart(64, '0')))
const alice = id(0xa1)
const bob = id(0xb0)
const carol = id(0xc0)
const mallory = id(0x66)
const edge = id(0xed)
const NOW = 1_800_000_000_000
const HOUR = 3_600_000

const only = process.argv.slice(2)

function write(name: string, data: unknown): void {
  if (only.length > 0 && !only.includes(name)) return
  writeFileSync(resolve(out, name), `${JSON.stringify(data, null, 2)}\n`)
}

// Deterministic tokens: a fixed nonce instead of a random one.
function cap(iss: typeof alice, aud: string, res: string, can: Action[], exp: number, prf: Capability[] = [], nbf = 0) {
  const unsigned = {
    iss: iss.did,
    aud: aud as never,
    res,
    can: [...can].sort() as Action[],
    nbf,
    exp,
    nnc: 'fixture',
    prf: prf.map(encodeCapability),
  }
  return { ...unsigned, sig: sign(iss, capabilitySigningBytes(unsigned)) } as Capability
}

write('did-key.json', {
  cases: [
    ...[0, 1, 2, 3, 4].map((n) => {
      const seed = n.toString(16).padStart(64, '0')
      return {
        name: `did:key spec vector, seed ${n}`,
        valid: true,
        seed,
        did: identityFromSecretKey(hexToBytes(seed)).did,
      }
    }),
    { name: 'not base58btc', valid: false, error: 'invalid_did', did: 'did:key:m7QEtsgxNbCJ2qdaP1JvWz' },
    { name: 'another method', valid: false, error: 'invalid_did', did: 'did:web:example.com' },
    { name: 'truncated key', valid: false, error: 'invalid_did', did: alice.did.slice(0, -3) },
  ],
})

const profileKey = formatRecordKey({ kind: 'profile', owner: alice.did })
const record = createRecord(alice, {
  key: profileKey,
  value: utf8ToBytes('{"displayName":"Alice"}'),
  timestamp: NOW - 1000,
  public: true,
})
const recordBytes = encodeRecord(record)
const flipped = recordBytes.slice()
flipped[flipped.length - 1] = (flipped[flipped.length - 1] as number) ^ 1
write('records.json', {
  now: NOW,
  cases: [
    { name: 'valid profile record', valid: true, record: bytesToHex(recordBytes), author: alice.did, key: profileKey },
    { name: 'one flipped bit in the signature', valid: false, error: 'invalid_signature', record: bytesToHex(flipped) },
    {
      name: 'signed by someone other than the key owner',
      valid: false,
      error: 'forbidden',
      record: bytesToHex(
        encodeRecord(createRecord(mallory, { key: profileKey, value: utf8ToBytes('x'), timestamp: NOW })),
      ),
    },
    {
      name: 'timestamp more than 5 minutes ahead',
      valid: false,
      error: 'timestamp_in_future',
      record: bytesToHex(
        encodeRecord(createRecord(alice, { key: profileKey, value: utf8ToBytes('x'), timestamp: NOW + 6 * 60_000 })),
      ),
    },
    {
      name: 'key outside the namespace',
      valid: false,
      error: 'invalid_key',
      record: bytesToHex(
        encodeRecord(createRecord(alice, { key: `/other/${alice.did}`, value: utf8ToBytes('x'), timestamp: NOW })),
      ),
    },
  ],
})

const res = 'doc:circle:book-club'
const owners = { [res]: alice.did }
const toBob = cap(alice, bob.did, res, ['admin'], NOW + 10 * HOUR)
const toCarol = cap(bob, carol.did, res, ['read', 'write'], NOW + 5 * HOUR, [toBob])
const capCase = (name: string, token: Capability, valid: boolean, error?: string, action: Action = 'write') => ({
  name,
  valid,
  ...(error ? { error } : {}),
  token: bytesToHex(encodeCapability(token)),
  resource: res,
  action,
  audience: edge.did,
})
write('capabilities.json', {
  now: NOW,
  owners,
  cases: [
    capCase('owner invokes directly', cap(alice, edge.did, res, ['write'], NOW + HOUR), true),
    capCase('three-link chain', cap(carol, edge.did, res, ['write'], NOW + HOUR, [toCarol]), true),
    capCase(
      'root not issued by the owner',
      cap(bob, edge.did, res, ['write'], NOW + HOUR, [cap(mallory, bob.did, res, ['admin'], NOW + HOUR)]),
      false,
      'not_owner',
    ),
    capCase('expired', cap(alice, edge.did, res, ['write'], NOW - 1), false, 'token_expired'),
    capCase(
      'not yet valid',
      cap(alice, edge.did, res, ['write'], NOW + 2 * HOUR, [], NOW + HOUR),
      false,
      'token_not_yet_valid',
    ),
    capCase(
      'addressed to another service',
      cap(alice, mallory.did, res, ['write'], NOW + HOUR),
      false,
      'wrong_audience',
    ),
    capCase(
      'child claims more than its parent',
      cap(carol, edge.did, res, ['delete'], NOW + HOUR, [toCarol]),
      false,
      'over_attenuated',
      'delete',
    ),
    capCase(
      'child outlives its parent',
      cap(carol, edge.did, res, ['write'], NOW + 6 * HOUR, [toCarol]),
      false,
      'over_attenuated',
    ),
    capCase(
      'link not issued by its parent’s audience',
      cap(mallory, edge.did, res, ['write'], NOW + HOUR, [toCarol]),
      false,
      'broken_chain',
    ),
    capCase('read-only grant used to write', cap(alice, edge.did, res, ['read'], NOW + HOUR), false, 'forbidden'),
  ],
})

const circleKey = createCircleKey('book-club')
write('encryption.json', {
  about:
    'Ciphertexts are random; an implementation checks it can open them with the named seed and gets the plaintext.',
  sealed: [
    {
      name: 'sealed to bob',
      recipientSeed: bytesToHex(bob.secretKey),
      recipient: bob.did,
      sealed: bytesToHex(seal(bob.did, utf8ToBytes('for Bob only'))),
      plaintext: 'for Bob only',
    },
  ],
  circle: {
    key: { circle: circleKey.circle, epoch: circleKey.epoch, key: bytesToHex(circleKey.key) },
    wrappedForBob: bytesToHex(wrapCircleKey(circleKey, [bob.did])[bob.did] as Uint8Array),
    message: bytesToHex(encryptForCircle(circleKey, utf8ToBytes('hello circle'))),
    plaintext: 'hello circle',
  },
})
// A deterministic topic message: a fixed nonce instead of a random one.
const unsignedEnvelope = {
  topic: 'circle:messages:book-club',
  payload: utf8ToBytes('hello topic'),
  author: alice.did,
  timestamp: NOW - 1000,
  nonce: hexToBytes('000102030405060708090a0b0c0d0e0f'),
}
const envelope: TopicEnvelope = { ...unsignedEnvelope, signature: sign(alice, envelopeSigningBytes(unsignedEnvelope)) }
const tampered: TopicEnvelope = { ...envelope, payload: utf8ToBytes('hello topiC') }
// The next message, for the `msgs` frame that carries both.
const unsignedSecond = {
  ...unsignedEnvelope,
  payload: utf8ToBytes('hello again'),
  nonce: hexToBytes('101112131415161718191a1b1c1d1e1f'),
}
const secondEnvelope: TopicEnvelope = {
  ...unsignedSecond,
  signature: sign(alice, envelopeSigningBytes(unsignedSecond)),
}
write('topics.json', {
  about:
    'A signed topic envelope (docs/protocol.md, Topics) and the socket frames that carry it. In a frame, `e` is the envelope as a nested CBOR map, not a byte string.',
  now: NOW,
  seed: bytesToHex(alice.secretKey),
  envelope: {
    topic: envelope.topic,
    payload: bytesToHex(envelope.payload),
    author: envelope.author,
    timestamp: envelope.timestamp,
    nonce: bytesToHex(envelope.nonce),
    signature: bytesToHex(envelope.signature),
  },
  signingBytes: bytesToHex(envelopeSigningBytes(envelope)),
  encoded: bytesToHex(encodeEnvelope(envelope)),
  messageId: messageId(envelope),
  frames: {
    pub: bytesToHex(encodeTopicFrame({ t: 'pub', e: envelope })),
    msg: bytesToHex(encodeTopicFrame({ t: 'msg', c: 1, e: envelope })),
    msgs: bytesToHex(
      encodeTopicFrame({
        t: 'msgs',
        m: [
          { c: 1, e: envelope },
          { c: 2, e: secondEnvelope },
        ],
      }),
    ),
    live: bytesToHex(encodeTopicFrame({ t: 'live', c: 0 })),
  },
  cases: [
    { name: 'the envelope above', valid: true, envelope: bytesToHex(encodeEnvelope(envelope)) },
    {
      name: 'payload changed after signing',
      valid: false,
      error: 'invalid_signature',
      envelope: bytesToHex(encodeEnvelope(tampered)),
    },
  ],
  badFrames: [
    {
      name: 'pub frame with the envelope as a byte string instead of a map',
      error: 'invalid_envelope',
      frame: bytesToHex(encodeCanonical({ t: 'pub', e: encodeEnvelope(envelope) })),
    },
  ],
})
write('ed25519-strict.json', ed25519StrictVectors())
console.log(`wrote fixtures to ${out}`)
