import { createEnvelope, encodeEnvelope, generateIdentity } from '@vivim/shared'
import { gossipMessageIdAsync, gossipMessageIdOf } from '@vivim/shared/mesh'
import { describe, expect, it } from 'vitest'
import { gossipFastMessageId, gossipMessageId } from '../src/topic-ids.ts'

const TOPIC = 'public:bridge:ids'

describe('Gossipsub message ids', () => {
  it('the fast id names the data alone: the same envelope from any publisher, under any libp2p signature, is one message', () => {
    const data = encodeEnvelope(createEnvelope(generateIdentity(), { topic: TOPIC, payload: new Uint8Array([1]) }))
    const a = { data, from: new Uint8Array([1]), seqno: new Uint8Array([1]), signature: new Uint8Array(64) }
    const b = {
      data: data.slice(),
      from: new Uint8Array([2]),
      seqno: new Uint8Array([9]),
      signature: new Uint8Array(64).fill(7),
    }
    expect(gossipFastMessageId(a)).toBe(gossipFastMessageId(b))
    expect(gossipFastMessageId(a)).toBe(Buffer.from(gossipMessageId({ data })).toString('base64'))
  })

  it('different envelopes have different fast ids, and a message without data has one too', () => {
    const author = generateIdentity()
    const one = encodeEnvelope(createEnvelope(author, { topic: TOPIC, payload: new Uint8Array([1]) }))
    const two = encodeEnvelope(createEnvelope(author, { topic: TOPIC, payload: new Uint8Array([1]) }))
    expect(gossipFastMessageId({ data: one })).not.toBe(gossipFastMessageId({ data: two }))
    expect(gossipFastMessageId({})).toBe(gossipFastMessageId({ data: new Uint8Array(0) }))
  })

  it("the bridge's native id is the one browsers compute with WebCrypto and the shared reference: the mesh names a message alike everywhere", async () => {
    const data = encodeEnvelope(createEnvelope(generateIdentity(), { topic: TOPIC, payload: new Uint8Array([3]) }))
    const native = new Uint8Array(gossipMessageId({ data }))
    expect(await gossipMessageIdAsync({ data })).toEqual(native)
    expect(gossipMessageIdOf(data)).toEqual(native)
  })
})
