/**
 * The page the mesh browser tests open: the SDK's browser peer, bundled for
 * Chromium, driven from the test through `globalThis.meshPage`. One document
 * (`text`) and one topic's messages are all a test needs to look at.
 */
import { VivimClient } from '@vivim/client'
import { type MeshPath, MeshPeer, type MeshTopicMessage } from '@vivim/client/mesh'
import { decodeCapabilityText, encodeCapabilityText, generateIdentity } from '@vivim/shared'
import * as Y from 'yjs'
import type { MeshPage, MeshPageStart, ReceivedMessage } from './page-api.ts'

let peer: MeshPeer | undefined
const identity = generateIdentity()
let edge: VivimClient | undefined
const doc = new Y.Doc()
const received: ReceivedMessage[] = []
const paths: { peer: string; path: MeshPath }[] = []
const errors: string[] = []

const meshPage: MeshPage = {
  async start(init: MeshPageStart): Promise<string> {
    edge = init.edge ? new VivimClient({ edge: init.edge, identity }) : undefined
    peer = await MeshPeer.start(
      {
        bridges: init.bridges,
        allowPrivateAddresses: true,
        rtcConfiguration: init.blockWebRTC ? { iceServers: [], iceTransportPolicy: 'relay' } : { iceServers: [] },
      },
      { identity, ...(edge ? { edge } : {}), onError: (e) => errors.push(e.message) },
    )
    peer.onPath((other, path) => paths.push({ peer: other, path }))
    return peer.id
  },
  did: (): string => identity.did,
  grantRead: (resource: string, to: string): string =>
    encodeCapabilityText(needEdge().grant({ resource, actions: ['read'], expiresAt: Date.now() + 3_600_000, to })),
  addGrant: (text: string): void => needEdge().addGrant(decodeCapabilityText(text)),
  join(name: string): void {
    need().docs.join(name, doc)
  },
  insert(text: string): void {
    doc.getText('text').insert(doc.getText('text').length, text)
  },
  text: (): string => doc.getText('text').toString(),
  subscribe(topic: string): void {
    need().topics.subscribe(topic, (m: MeshTopicMessage) => received.push({ id: m.id, text: m.text(), via: m.via }))
  },
  publish: async (topic: string, text: string): Promise<string> => (await need().topics.publish(topic, text)).id,
  received: () => received,
  duplicates: (): number => need().topics.duplicates,
  path: (other: string): MeshPath => need().path(other),
  paths: () => paths,
  errors: () => errors,
  stop: async (): Promise<void> => peer?.stop(),
}

function needEdge(): VivimClient {
  if (edge === undefined) throw new Error('start the peer with an edge first')
  return edge
}

function need(): MeshPeer {
  if (peer === undefined) throw new Error('start the peer first')
  return peer
}

;(globalThis as unknown as { meshPage: typeof meshPage }).meshPage = meshPage
