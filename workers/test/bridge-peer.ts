/**
 * A bridge for edge tests: a socket to `/v1/bridge` that says `hello` as a
 * libp2p bridge would, keeps the frames the edge sends it and may answer
 * them; plus the grants a bridge links with and signed records to pass
 * around.
 */
import { env } from 'cloudflare:test'
import {
  BridgeFrameType,
  type BridgeHubFrame,
  createRecord,
  decodeBridgeHubFrame,
  encodeBridgeFrame,
  encodeCapabilityText,
  formatRecordKey,
  type Identity,
  issueCapability,
} from '@vivim/shared'
import { edgeIdentity } from '../auth/edge-identity.ts'
import { binary, openSocket, SocketPeer } from './socket-peer.ts'

export const edge = edgeIdentity(env)
export const PEER = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'
const HOUR = 3_600_000

export type Answer = (frame: BridgeHubFrame, bridge: FakeBridge) => void

/** A socket to the edge that acts as a bridge: it keeps the frames it gets and may answer them. */
export class FakeBridge extends SocketPeer<BridgeHubFrame> {
  private readonly answer: Answer | undefined

  private constructor(ws: WebSocket, answer?: Answer) {
    super(ws, (frame) => decodeBridgeHubFrame(binary(frame)))
    this.answer = answer
  }

  static async connect(query = '', answer?: Answer): Promise<FakeBridge> {
    const bridge = new FakeBridge(await openSocket(`/v1/bridge${query}`), answer)
    bridge.send(encodeBridgeFrame({ t: BridgeFrameType.Hello, peer: PEER, addrs: ['/ip4/127.0.0.1/tcp/4001'] }))
    return bridge
  }

  protected override receive(frame: BridgeHubFrame): void {
    this.answer?.(frame, this)
  }
}

/** A signed profile record of `author` holding `text`. */
export function record(author: Identity, text: string) {
  const key = formatRecordKey({ kind: 'profile', owner: author.did })
  return { key, record: createRecord(author, { key, value: new TextEncoder().encode(text) }) }
}

/** The grant `root` gives `bridge` on the resource `bridge`. */
export function bridgeGrant(root: Identity, bridge: Identity, can: ('read' | 'write')[] = ['write']) {
  return issueCapability(root, { aud: bridge.did, res: 'bridge', can, exp: Date.now() + HOUR })
}

/** `bridge`'s invocation of `grant` (by default `root`'s grant to it), as a `?token=` value. */
export function bridgeToken(
  root: Identity,
  bridge: Identity,
  can: ('read' | 'write')[] = ['write'],
  grant = bridgeGrant(root, bridge, can),
): string {
  return encodeCapabilityText(
    issueCapability(bridge, { aud: edge.did, res: 'bridge', can, exp: grant.exp, prf: [grant] }),
  )
}
