import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import {
  type Activity,
  ActivityType,
  DOC_PART_BYTES,
  decodeActivity,
  encodeActivity,
  joinDocParts,
  Limits,
  MAX_FEDERATED_UPDATE_BYTES,
  splitByClient,
  splitDocUpdate,
} from '../src/index.ts'

const code = (c: string) => expect.objectContaining({ code: c })
type Part = Extract<Activity, { t: 'doc.part' }>

/** Text Yjs cannot shorten (it stores strings as they are), so sizes are what they say. */
let seed = 1
const noise = (bytes: number) =>
  Array.from({ length: bytes }, () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
    return String.fromCharCode(97 + (seed % 26))
  }).join('')

function writtenBy(writers: number, bytesEach: number): Uint8Array {
  const merged = new Y.Doc()
  for (let i = 0; i < writers; i++) {
    const doc = new Y.Doc()
    doc.getMap('m').set(`w${i}`, noise(bytesEach))
    Y.applyUpdate(merged, Y.encodeStateAsUpdate(doc))
  }
  if (writers > 1) merged.getMap('m').delete('w0')
  return Y.encodeStateAsUpdate(merged)
}

const stateOf = (updates: Uint8Array[]) => {
  const doc = new Y.Doc()
  for (const u of updates) Y.applyUpdate(doc, u)
  return doc.getMap('m').toJSON()
}

describe('document updates larger than a transaction', () => {
  it('travel as parts of at most DOC_PART_BYTES that join into the same bytes, in any order', () => {
    const update = writtenBy(1, 500 * 1024)
    const activities = splitDocUpdate('notes-1', update)
    expect(activities.length).toBe(Math.ceil(update.length / DOC_PART_BYTES))
    const parts = activities.map((a) => decodeActivity(encodeActivity(a)) as Part)
    for (const p of parts) {
      expect(p).toMatchObject({ t: ActivityType.DocPart, doc: 'notes-1', count: activities.length })
      expect(encodeActivity(p).length).toBeLessThan(Limits.maxFederationTransactionBytes - 512)
    }
    expect(joinDocParts([...parts].reverse())).toEqual(update)
  })

  it('an update too large for a room frame is divided by writer into updates that make the same state', () => {
    const update = writtenBy(6, 300 * 1024)
    expect(update.length).toBeGreaterThan(MAX_FEDERATED_UPDATE_BYTES)
    const pieces = splitByClient(update)
    expect(pieces.length).toBeGreaterThan(1)
    for (const piece of pieces) expect(piece.length).toBeLessThanOrEqual(MAX_FEDERATED_UPDATE_BYTES)
    expect(stateOf(pieces.reverse())).toEqual(stateOf([update]))
    expect(Object.keys(stateOf(pieces))).not.toContain('w0')
  })

  it('small updates stay one doc.update', () => {
    const update = writtenBy(1, 1000)
    expect(splitDocUpdate('notes-1', update)).toEqual([{ t: ActivityType.DocUpdate, doc: 'notes-1', update }])
  })

  it('refuses one writer’s share larger than a room frame, an incomplete or tampered set of parts', () => {
    expect(() => splitByClient(writtenBy(1, Limits.maxFrameBytes + 1024))).toThrow(code('payload_too_large'))
    const parts = splitDocUpdate('notes-1', writtenBy(1, 300 * 1024)) as Part[]
    expect(() => joinDocParts(parts.slice(1))).toThrow(code('bad_request'))
    expect(() => joinDocParts([])).toThrow(code('bad_request'))
    const first = parts[0] as Part
    const tampered = [{ ...first, part: new Uint8Array(first.part.length) }, ...parts.slice(1)]
    expect(() => joinDocParts(tampered)).toThrow(code('bad_request'))
  })

  it('a doc.part with a bad hash, count or index, or too large, is not an activity', () => {
    const good = splitDocUpdate('notes-1', writtenBy(1, 300 * 1024))[0] as Part
    const bad = [
      { ...good, of: 'short' },
      { ...good, count: 1, index: 0 },
      { ...good, index: good.count },
      { ...good, index: -1 },
      { ...good, count: 1000 },
      { ...good, part: new Uint8Array(DOC_PART_BYTES + 1) },
    ]
    for (const activity of bad) expect(() => decodeActivity(encodeActivity(activity))).toThrow(code('bad_request'))
    expect(() => decodeActivity(encodeActivity({ t: ActivityType.Gap, after: -1 }))).toThrow(code('bad_request'))
  })
})
