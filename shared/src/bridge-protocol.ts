/**
 * The bridge link (`/v1/bridge`): a WebSocket between a libp2p bridge
 * (`node-bridge/`) and the edge's `BridgeHub`, one canonical-CBOR map per
 * binary frame, its kind in `t`. Topics do not ride here: a bridge joins each
 * topic room on its own `/v1/topics/<topic>` socket (`topic-protocol.ts`).
 *
 *   bridge → hub
 *     { t: "hello", peer, addrs: [multiaddr…] }     who the bridge is in the mesh (first frame)
 *     { t: "found", id, r: record bytes | null }     the answer to a `find`
 *     { t: "prov", key, peer, addrs, ttl }           a provider seen in the mesh (ttl in seconds)
 *   hub → bridge
 *     { t: "find", id, key }                        look a record up in the DHT
 *     { t: "put", r: record bytes }                  a record stored at the edge: put it in the DHT
 *     { t: "prov", key, peer, addrs, ttl }           a provider announced at the edge
 *     { t: "err", code, message }                    a well-formed frame was refused; the socket stays open
 *
 * A frame that is not one of these (or is text, too big, or past the rate)
 * closes the socket with 4400 (or 1003, 1009, 4429), as on every room.
 *
 * Records travel as their canonical bytes (`record.ts`), so both ends check
 * the same signature. The document protocol between peers,
 * `/vivim/yjs-sync/1.0.0`, is length-prefixed y-protocols messages
 * (`doc-protocol.ts`) after one frame naming the document: see
 * `YJS_SYNC_PROTOCOL`.
 *
 * @example
 * ```ts
 * const bytes = encodeBridgeFrame({ t: BridgeFrameType.Find, id: 1, key: '/vivim/profile/did:key:z…' })
 * decodeBridgeHubFrame(bytes) // { t: 'find', id: 1, key: '/vivim/profile/did:key:z…' }
 * ```
 */
import { decodeCanonical, encodeCanonical } from './canonical.ts'
import { ErrorCode, VivimError } from './errors.ts'
import { Limits } from './limits.ts'
import { parseRecordKey } from './record-key.ts'
import { isMultiaddr, isProviderPeer } from './record-providers.ts'

/** The `t` of every frame on the bridge link (`/v1/bridge`, `docs/bridge.md`). */
export const BridgeFrameType = {
  Hello: 'hello',
  Found: 'found',
  Find: 'find',
  Put: 'put',
  Provider: 'prov',
  Error: 'err',
} as const

/** The capability resource that lets a bridge link to an edge (the edge's own DID roots its chain). */
export const BRIDGE_RESOURCE = 'bridge'
/** The libp2p protocol for syncing a Yjs document directly between two peers. */
export const YJS_SYNC_PROTOCOL = '/vivim/yjs-sync/1.0.0'
/** The Kademlia protocol of the VIVIM mesh: its own DHT, apart from the public IPFS one. */
export const VIVIM_DHT_PROTOCOL = '/vivim/kad/1.0.0'
/** The DHT namespace whose records are VIVIM's signed records (`/vivim/<kind>/<owner>…`). */
export const VIVIM_DHT_NAMESPACE = 'vivim'

/** Limits of the bridge link, on top of `Limits`. */
export const BridgeLimits = {
  /** How long the hub waits for a bridge to answer a `find` before it reports a miss. */
  findTimeoutMs: 2_500,
  /** Most `find`s the hub keeps waiting at once; more are answered as misses at once. */
  maxPendingFinds: 256,
  /** Longest document name on `/vivim/yjs-sync/1.0.0`, in UTF-8 bytes. */
  maxDocNameBytes: 256,
  /** Most multiaddrs a bridge announces for itself. */
  maxHelloAddrs: Limits.maxProviderMultiaddrs,
} as const

/** `{ t: "prov", key, peer, addrs, ttl }`: a provider of a record key, sent both ways on the link. */
export interface ProviderFrame {
  t: typeof BridgeFrameType.Provider
  key: string
  peer: string
  addrs: string[]
  /** Seconds, as on `POST /v1/providers`. */
  ttl: number
}

/** A frame a bridge sends to the edge's hub. */
export type BridgeClientFrame =
  | { t: typeof BridgeFrameType.Hello; peer: string; addrs: string[] }
  | { t: typeof BridgeFrameType.Found; id: number; r: Uint8Array | null }
  | ProviderFrame

/** A frame the edge's hub sends to a bridge. */
export type BridgeHubFrame =
  | { t: typeof BridgeFrameType.Find; id: number; key: string }
  | { t: typeof BridgeFrameType.Put; r: Uint8Array }
  | ProviderFrame
  | { t: typeof BridgeFrameType.Error; code: ErrorCode; message: string }

/** The canonical CBOR of a bridge link frame, one per binary WebSocket frame. */
export function encodeBridgeFrame(frame: BridgeClientFrame | BridgeHubFrame): Uint8Array {
  return encodeCanonical(frame as never)
}

const isId = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0
function isKey(v: unknown): v is string {
  if (typeof v !== 'string') return false
  try {
    parseRecordKey(v)
    return true
  } catch {
    return false
  }
}
const isAddrs = (v: unknown): v is string[] =>
  Array.isArray(v) && v.length <= Limits.maxProviderMultiaddrs && v.every(isMultiaddr)
const isRecordBytes = (v: unknown): v is Uint8Array => v instanceof Uint8Array && v.length <= Limits.maxRecordBytes

function readMap(bytes: Uint8Array): Record<string, unknown> {
  let v: unknown
  try {
    v = decodeCanonical(bytes)
  } catch {
    throw new VivimError(ErrorCode.InvalidEncoding, 'a bridge frame is canonical CBOR')
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) {
    throw new VivimError(ErrorCode.BadRequest, 'a bridge frame is a map')
  }
  return v as Record<string, unknown>
}

function fields(v: Record<string, unknown>, names: string): boolean {
  return Object.keys(v).sort().join() === names
}

function readProvider(v: Record<string, unknown>): ProviderFrame | null {
  const ttlOk =
    Number.isSafeInteger(v.ttl) && (v.ttl as number) > 0 && (v.ttl as number) * 1000 <= Limits.maxProviderTtlMs
  if (fields(v, 'addrs,key,peer,t,ttl') && isKey(v.key) && isProviderPeer(v.peer) && isAddrs(v.addrs) && ttlOk) {
    return { t: BridgeFrameType.Provider, key: v.key, peer: v.peer, addrs: v.addrs, ttl: v.ttl as number }
  }
  return null
}

/** Decodes a frame a bridge sent; throws a `VivimError` on anything else. */
export function decodeBridgeClientFrame(bytes: Uint8Array): BridgeClientFrame {
  const v = readMap(bytes)
  switch (v.t) {
    case BridgeFrameType.Hello:
      if (fields(v, 'addrs,peer,t') && isProviderPeer(v.peer) && isAddrs(v.addrs)) {
        return { t: v.t, peer: v.peer, addrs: v.addrs }
      }
      break
    case BridgeFrameType.Found:
      if (fields(v, 'id,r,t') && isId(v.id) && (v.r === null || isRecordBytes(v.r))) return { t: v.t, id: v.id, r: v.r }
      break
    case BridgeFrameType.Provider: {
      const frame = readProvider(v)
      if (frame) return frame
      break
    }
  }
  throw new VivimError(ErrorCode.BadRequest, 'not a bridge frame (hello, found or prov)')
}

/** Decodes a frame the hub sent; throws a `VivimError` on anything else. */
export function decodeBridgeHubFrame(bytes: Uint8Array): BridgeHubFrame {
  const v = readMap(bytes)
  switch (v.t) {
    case BridgeFrameType.Find:
      if (fields(v, 'id,key,t') && isId(v.id) && isKey(v.key)) return { t: v.t, id: v.id, key: v.key }
      break
    case BridgeFrameType.Put:
      if (fields(v, 'r,t') && isRecordBytes(v.r)) return { t: v.t, r: v.r }
      break
    case BridgeFrameType.Provider: {
      const frame = readProvider(v)
      if (frame) return frame
      break
    }
    case BridgeFrameType.Error:
      if (fields(v, 'code,message,t') && typeof v.code === 'string' && typeof v.message === 'string') {
        return { t: v.t, code: v.code as ErrorCode, message: v.message }
      }
      break
  }
  throw new VivimError(ErrorCode.BadRequest, 'not a hub frame (find, put, prov or err)')
}
