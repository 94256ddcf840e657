/**
 * Yjs updates of any size, carried by transactions of bounded size
 * (`federation-transaction.ts`). Two steps, both reversible at the receiver:
 *
 *   1. An update larger than a document room takes in one frame
 *      (`MAX_FEDERATED_UPDATE_BYTES`) is divided by Yjs client: each piece is
 *      `Y.diffUpdate` of the update against a state vector that already
 *      holds every other client's structs, so it is a valid update on its
 *      own (each carries the whole delete set, which Yjs applies once).
 *   2. A piece larger than `DOC_PART_BYTES` is cut into `doc.part`s:
 *
 *        { t: "doc.part", doc, of: base64url(sha-256(piece)), index, count, part }
 *
 *      The receiver keeps parts by (`of`, `index`) until all `count` are in,
 *      joins them in index order, checks the hash, and applies the piece as
 *      one `doc.update`. Keeping a part twice or applying a piece twice
 *      changes nothing, so redelivery is harmless.
 *
 * One client's structs larger than a room frame cannot be divided this way;
 * `splitDocUpdate` refuses them (`payload_too_large`), as the room would.
 *
 * @example
 * ```ts
 * const activities = splitDocUpdate('notes-1', bigUpdate) // doc.update, or doc.parts
 * const piece = joinDocParts(parts) // the bytes whose sha-256 is `of`, or throws
 * ```
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { base64urlnopad } from '@scure/base'
import * as Y from 'yjs'
import { ErrorCode, VivimError } from './errors.ts'
import { type Activity, ActivityType, DOC_PART_BYTES, MAX_FEDERATED_UPDATE_BYTES } from './federation-transaction.ts'

type DocPart = Extract<Activity, { t: typeof ActivityType.DocPart }>

/** The base64url sha-256 that names an update's parts. */
export function updateHash(update: Uint8Array): string {
  return base64urlnopad.encode(sha256(update))
}

/** Divides an update by Yjs client into updates no larger than `max` bytes. */
export function splitByClient(update: Uint8Array, max = MAX_FEDERATED_UPDATE_BYTES): Uint8Array[] {
  if (update.length <= max) return [update]
  const { from, to } = Y.parseUpdateMeta(update)
  const clients = [...to.keys()]
  const only = (keep: number[]) => {
    const sv = new Map(to)
    for (const client of keep) sv.set(client, from.get(client) ?? 0)
    return Y.diffUpdate(update, Y.encodeStateVector(sv))
  }
  const pieces: Uint8Array[] = []
  const divide = (group: number[]) => {
    const piece = only(group)
    if (piece.length <= max) return void pieces.push(piece)
    if (group.length === 1) {
      throw new VivimError(ErrorCode.PayloadTooLarge, `one writer’s part of an update is ${piece.length} bytes`)
    }
    const half = Math.ceil(group.length / 2)
    divide(group.slice(0, half))
    divide(group.slice(half))
  }
  divide(clients)
  return pieces
}

/** The activities that carry an update of any size: `doc.update`s, or `doc.part`s of the larger pieces. */
export function splitDocUpdate(doc: string, update: Uint8Array): Activity[] {
  return splitByClient(update).flatMap((piece): Activity[] => {
    if (piece.length <= DOC_PART_BYTES) return [{ t: ActivityType.DocUpdate, doc, update: piece }]
    const of = updateHash(piece)
    const count = Math.ceil(piece.length / DOC_PART_BYTES)
    return Array.from({ length: count }, (_, index) => ({
      t: ActivityType.DocPart,
      doc,
      of,
      index,
      count,
      part: piece.subarray(index * DOC_PART_BYTES, (index + 1) * DOC_PART_BYTES),
    }))
  })
}

/** Joins a complete set of parts (any order) into the update they were cut from; throws if they do not make it. */
export function joinDocParts(parts: readonly DocPart[]): Uint8Array {
  const first = parts[0]
  if (!first) throw new VivimError(ErrorCode.BadRequest, 'no parts')
  const sorted = [...parts].sort((x, y) => x.index - y.index)
  const complete =
    sorted.length === first.count &&
    sorted.every((p, i) => p.index === i && p.count === first.count && p.of === first.of && p.doc === first.doc)
  if (!complete) throw new VivimError(ErrorCode.BadRequest, 'the parts of an update are not one complete set')
  const whole = new Uint8Array(sorted.reduce((n, p) => n + p.part.length, 0))
  let at = 0
  for (const p of sorted) {
    whole.set(p.part, at)
    at += p.part.length
  }
  if (updateHash(whole) !== first.of) throw new VivimError(ErrorCode.BadRequest, 'the joined parts do not hash to of')
  return whole
}
