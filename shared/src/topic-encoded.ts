/**
 * Topic frames built from envelopes that are already encoded, byte for byte
 * what `encodeTopicFrame` gives for the same messages.
 *
 * A topic room receives each envelope inside a canonical `pub` frame, stores
 * its bytes, and sends them on in `msg` and `msgs` frames. Encoding the same
 * envelope again for every frame (a map sort and a copy per field) was a
 * large share of the room's CPU, so the room cuts the envelope's bytes out of
 * the `pub` frame once (`publishedEnvelopeBytes`) and splices them into the
 * frames it sends (`encodeMessageFrame`, `encodeMessagesFrame`). Splicing is
 * safe because the encoding is canonical: a map's keys are sorted by their
 * encodings, and the keys around the envelope are fixed, so the bytes around
 * it are fixed too (`shared/test/topic-encoded.test.ts` compares every frame
 * with `encodeTopicFrame`).
 *
 *   pub  = A2 61 'e' <envelope> 61 't' 63 'pub'                   { e, t: "pub" }
 *   msg  = A3 61 'c' <uint c> 61 'e' <envelope> 61 't' 63 'msg'   { c, e, t: "msg" }
 *   msgs = A2 61 'm' <array n> n × (A2 61 'c' <uint c> 61 'e' <envelope>) 61 't' 64 'msgs'
 */
import { concatBytes, utf8ToBytes } from '@noble/hashes/utils.js'
import { encodeCanonical } from './canonical.ts'

const bytes = (...parts: (number | string)[]) =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === 'number' ? [p] : [...utf8ToBytes(p)])))

const PUB_HEAD = bytes(0xa2, 0x61, 'e')
const PUB_TAIL = bytes(0x61, 't', 0x63, 'pub')
const MSG_HEAD = bytes(0xa3, 0x61, 'c')
const ITEM_HEAD = bytes(0xa2, 0x61, 'c')
const E_KEY = bytes(0x61, 'e')
const MSG_TAIL = bytes(0x61, 't', 0x63, 'msg')
const MSGS_HEAD = bytes(0xa2, 0x61, 'm')
const MSGS_TAIL = bytes(0x61, 't', 0x64, 'msgs')

/** A message whose envelope is already canonically encoded. */
export interface EncodedMessage {
  readonly c: number
  /** `encodeEnvelope(e)`. */
  readonly envelope: Uint8Array
}

const startsWith = (b: Uint8Array, p: Uint8Array, at: number) => p.every((x, i) => b[at + i] === x)

/**
 * The envelope's canonical bytes inside a `pub` frame that `decodeTopicClientFrame` accepted as
 * one (a view, not a copy): the frame is `{ e, t: "pub" }`, so they are what lies between its
 * fixed head and tail. Throws for anything else.
 */
export function publishedEnvelopeBytes(frame: Uint8Array): Uint8Array {
  const end = frame.length - PUB_TAIL.length
  if (end <= PUB_HEAD.length || !startsWith(frame, PUB_HEAD, 0) || !startsWith(frame, PUB_TAIL, end)) {
    throw new Error('not a canonical pub frame')
  }
  return frame.subarray(PUB_HEAD.length, end)
}

/** The header of a CBOR array of `n` items (major type 4), shortest form. */
function arrayHeader(n: number): Uint8Array {
  if (n < 24) return Uint8Array.of(0x80 | n)
  if (n < 0x100) return Uint8Array.of(0x98, n)
  if (n < 0x10000) return Uint8Array.of(0x99, n >> 8, n & 0xff)
  return Uint8Array.of(0x9a, n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff)
}

/** `encodeTopicFrame({ t: "msg", c, e })` from the envelope's encoding. */
export function encodeMessageFrame(m: EncodedMessage): Uint8Array {
  return concatBytes(MSG_HEAD, encodeCanonical(m.c), E_KEY, m.envelope, MSG_TAIL)
}

/** `encodeTopicFrame({ t: "msgs", m })` from the envelopes' encodings, in the order given. */
export function encodeMessagesFrame(messages: readonly EncodedMessage[]): Uint8Array {
  const parts: Uint8Array[] = [MSGS_HEAD, arrayHeader(messages.length)]
  for (const m of messages) parts.push(ITEM_HEAD, encodeCanonical(m.c), E_KEY, m.envelope)
  parts.push(MSGS_TAIL)
  return concatBytes(...parts)
}
