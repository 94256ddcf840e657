import { utf8ToBytes } from '@noble/hashes/utils.js'
import * as prng from 'lib0/prng'
import { describe, expect, it } from 'vitest'
import { generateIdentity } from '../src/identity.ts'
import { encodeMessageFrame, encodeMessagesFrame, publishedEnvelopeBytes } from '../src/topic-encoded.ts'
import { createEnvelope, encodeEnvelope, type TopicEnvelope } from '../src/topic-envelope.ts'
import {
  decodeTopicClientFrame,
  decodeTopicServerFrame,
  encodeTopicFrame,
  TopicFrameType,
} from '../src/topic-protocol.ts'

const author = generateIdentity()

function envelope(gen: prng.PRNG, n: number): TopicEnvelope {
  const payload = prng.uint8Array(gen, prng.uint32(gen, 0, 3000))
  return createEnvelope(author, { topic: 'public:splice', payload, timestamp: n })
}

// Cursors at every width of a CBOR unsigned integer, and batch sizes at every width of an array header.
const CURSORS = [0, 1, 23, 24, 255, 256, 65_535, 65_536, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER - 300]
const SIZES = [2, 23, 24, 25, 255, 256, 300]

describe('topic frames spliced from encoded envelopes', () => {
  it('cuts from a pub frame exactly the canonical encoding of its envelope', () => {
    const gen = prng.create(7)
    for (let i = 0; i < 50; i++) {
      const e = envelope(gen, i)
      const frame = encodeTopicFrame({ t: TopicFrameType.Publish, e })
      expect(decodeTopicClientFrame(frame)).toEqual({ t: 'pub', e })
      expect(publishedEnvelopeBytes(frame)).toEqual(encodeEnvelope(e))
    }
  })

  it('refuses bytes that are not a pub frame', () => {
    const e = envelope(prng.create(1), 1)
    const ack = encodeTopicFrame({ t: TopicFrameType.Ack, c: 5 })
    const msg = encodeTopicFrame({ t: TopicFrameType.Message, c: 1, e })
    for (const bad of [ack, msg, new Uint8Array(0), utf8ToBytes('pub'), encodeEnvelope(e)]) {
      expect(() => publishedEnvelopeBytes(bad)).toThrow('not a canonical pub frame')
    }
  })

  it('builds msg frames byte for byte as the canonical encoder does', () => {
    const gen = prng.create(11)
    for (const c of CURSORS) {
      const e = envelope(gen, c)
      const spliced = encodeMessageFrame({ c, envelope: encodeEnvelope(e) })
      expect(spliced).toEqual(encodeTopicFrame({ t: TopicFrameType.Message, c, e }))
      expect(decodeTopicServerFrame(spliced)).toEqual({ t: 'msg', c, e })
    }
  })

  it('builds msgs frames byte for byte as the canonical encoder does, at every header width', () => {
    const gen = prng.create(23)
    for (const size of SIZES) {
      const first = CURSORS[prng.uint32(gen, 0, CURSORS.length - 1)] as number
      const m = Array.from({ length: size }, (_, i) => ({ c: first + i, e: envelope(gen, i) }))
      const spliced = encodeMessagesFrame(m.map((x) => ({ c: x.c, envelope: encodeEnvelope(x.e) })))
      expect(spliced).toEqual(encodeTopicFrame({ t: TopicFrameType.Messages, m }))
      expect(decodeTopicServerFrame(spliced)).toEqual({ t: 'msgs', m })
    }
  })
})
