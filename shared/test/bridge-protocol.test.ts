import { describe, expect, it } from 'vitest'
import {
  type BridgeClientFrame,
  BridgeFrameType,
  type BridgeHubFrame,
  decodeBridgeClientFrame,
  decodeBridgeHubFrame,
  encodeBridgeFrame,
} from '../src/bridge-protocol.ts'
import { type CanonicalValue, encodeCanonical } from '../src/canonical.ts'
import { ErrorCode, VivimError } from '../src/errors.ts'
import { Limits } from '../src/limits.ts'

const PEER = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'
const KEY = '/vivim/profile/did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK'

function code(run: () => unknown): string {
  try {
    run()
  } catch (error) {
    return error instanceof VivimError ? error.code : 'not a VivimError'
  }
  return 'no error'
}

describe('bridge link frames', () => {
  it('round-trip every frame each side sends', () => {
    const fromBridge: BridgeClientFrame[] = [
      { t: BridgeFrameType.Hello, peer: PEER, addrs: ['/ip4/127.0.0.1/tcp/4001'] },
      { t: BridgeFrameType.Found, id: 7, r: new Uint8Array([1, 2]) },
      { t: BridgeFrameType.Found, id: 8, r: null },
      { t: BridgeFrameType.Provider, key: KEY, peer: PEER, addrs: [], ttl: 60 },
    ]
    for (const frame of fromBridge) expect(decodeBridgeClientFrame(encodeBridgeFrame(frame))).toEqual(frame)
    const fromHub: BridgeHubFrame[] = [
      { t: BridgeFrameType.Find, id: 1, key: KEY },
      { t: BridgeFrameType.Put, r: new Uint8Array([3]) },
      { t: BridgeFrameType.Provider, key: KEY, peer: PEER, addrs: ['/ip4/127.0.0.1/tcp/1/ws'], ttl: 86_400 },
      { t: BridgeFrameType.Error, code: ErrorCode.InvalidProvider, message: 'no' },
    ]
    for (const frame of fromHub) expect(decodeBridgeHubFrame(encodeBridgeFrame(frame))).toEqual(frame)
  })

  it('refuse bytes that are not CBOR, maps of the wrong kind, extra fields and the other side’s frames', () => {
    expect(code(() => decodeBridgeClientFrame(new Uint8Array([0xff])))).toBe(ErrorCode.InvalidEncoding)
    expect(code(() => decodeBridgeClientFrame(encodeCanonical([1])))).toBe(ErrorCode.BadRequest)
    expect(code(() => decodeBridgeClientFrame(encodeCanonical({ t: 'find', id: 1, key: KEY })))).toBe(
      ErrorCode.BadRequest,
    )
    expect(code(() => decodeBridgeHubFrame(encodeCanonical({ t: 'hello', peer: PEER, addrs: [] })))).toBe(
      ErrorCode.BadRequest,
    )
    expect(code(() => decodeBridgeHubFrame(encodeCanonical({ t: 'put', r: new Uint8Array(1), x: 1 })))).toBe(
      ErrorCode.BadRequest,
    )
  })

  it('refuse oversize records, bad peers and addresses, negative ids and out-of-range ttls', () => {
    const big = new Uint8Array(Limits.maxRecordBytes + 1)
    const bad: CanonicalValue[] = [
      { t: 'found', id: 1, r: big },
      { t: 'found', id: -1, r: null },
      { t: 'hello', peer: 'not a peer', addrs: [] },
      { t: 'hello', peer: PEER, addrs: ['not an address'] },
      { t: 'prov', key: KEY, peer: PEER, addrs: [], ttl: 0 },
      { t: 'prov', key: KEY, peer: PEER, addrs: [], ttl: 86_401 },
      { t: 'prov', key: 'x'.repeat(Limits.maxRecordKeyBytes + 1), peer: PEER, addrs: [], ttl: 1 },
      { t: 'prov', key: '/not/a/record/key', peer: PEER, addrs: [], ttl: 1 },
    ]
    for (const frame of bad)
      expect(code(() => decodeBridgeClientFrame(encodeCanonical(frame)))).toBe(ErrorCode.BadRequest)
    expect(code(() => decodeBridgeHubFrame(encodeCanonical({ t: 'put', r: big })))).toBe(ErrorCode.BadRequest)
  })
})
