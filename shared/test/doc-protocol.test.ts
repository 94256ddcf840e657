import { utf8ToBytes } from '@noble/hashes/utils.js'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { describe, expect, it } from 'vitest'
import * as syncProtocol from 'y-protocols/sync'
import * as Y from 'yjs'
import { CloseCode, closeReason } from '../src/close-codes.ts'
import {
  decodeDocMessage,
  encodeAwarenessFrame,
  encodePermissionDenied,
  encodeQueryAwareness,
  encodeSyncStep1,
  encodeSyncStep2,
  encodeSyncUpdate,
  MessageType,
  SyncType,
} from '../src/doc-protocol.ts'

describe('document framing', () => {
  it('matches the bytes y-protocols writes for each sync message', () => {
    const doc = new Y.Doc()
    doc.getArray('a').push([1, 2])
    const viaLibrary = (write: (e: encoding.Encoder) => void) => {
      const e = encoding.createEncoder()
      encoding.writeVarUint(e, MessageType.Sync)
      write(e)
      return encoding.toUint8Array(e)
    }
    expect(encodeSyncStep1(Y.encodeStateVector(doc))).toEqual(viaLibrary((e) => syncProtocol.writeSyncStep1(e, doc)))
    expect(encodeSyncStep2(Y.encodeStateAsUpdate(doc))).toEqual(viaLibrary((e) => syncProtocol.writeSyncStep2(e, doc)))
    const update = Y.encodeStateAsUpdate(doc)
    expect(encodeSyncUpdate(update)).toEqual(viaLibrary((e) => syncProtocol.writeUpdate(e, update)))
  })

  it('round-trips every message type', () => {
    const sv = new Uint8Array([1, 2, 3])
    expect(decodeDocMessage(encodeSyncStep1(sv))).toEqual({
      type: MessageType.Sync,
      syncType: SyncType.Step1,
      data: sv,
    })
    expect(decodeDocMessage(encodeSyncStep2(sv))).toEqual({
      type: MessageType.Sync,
      syncType: SyncType.Step2,
      data: sv,
    })
    expect(decodeDocMessage(encodeSyncUpdate(sv))).toEqual({
      type: MessageType.Sync,
      syncType: SyncType.Update,
      data: sv,
    })
    expect(decodeDocMessage(encodeAwarenessFrame(sv))).toEqual({ type: MessageType.Awareness, update: sv })
    expect(decodeDocMessage(encodeQueryAwareness())).toEqual({ type: MessageType.QueryAwareness })
    const denied = encodePermissionDenied('read-only')
    expect(decodeDocMessage(denied)).toEqual({ type: MessageType.Auth })
    const d = decoding.createDecoder(denied)
    expect([decoding.readVarUint(d), decoding.readVarUint(d), decoding.readVarString(d)]).toEqual([2, 0, 'read-only'])
  })

  it.each([
    ['an empty frame', []],
    ['an unknown message type', [9]],
    ['an unknown sync type', [0, 7, 0]],
    ['a length past the end', [0, 2, 5, 1]],
    ['trailing bytes', [3, 0]],
  ])('rejects %s', (_, bytes) => {
    expect(() => decodeDocMessage(Uint8Array.from(bytes))).toThrow()
  })
})

describe('close reasons', () => {
  it('are cut to 123 UTF-8 bytes without splitting a character', () => {
    expect(closeReason('short')).toBe('short')
    const long = closeReason('é'.repeat(100))
    expect(utf8ToBytes(long).length).toBeLessThanOrEqual(123)
    expect(long).toBe('é'.repeat(61))
    expect(CloseCode.RateLimited).toBe(4429)
  })
})
