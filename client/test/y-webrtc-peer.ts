/**
 * One stock y-webrtc client in a process of its own, as a browser tab is,
 * for `y-webrtc-signaling.test.ts`. y-webrtc keeps its rooms in module
 * state and, within one process, finds peers over a broadcast channel
 * without any server, so two clients of one room must not share a process.
 *
 * The provider runs unchanged (`WebrtcProvider`, its `SignalingConn` over
 * lib0's WebSocket client); only the WebRTC stack is a stand-in: Node has
 * none, and signaling needs only the offers and answers simple-peer makes,
 * never a connection. One JSON line on stdout per event:
 *
 *   { "peerId": "…" }                                      the provider's room is open
 *   { "heard": { "type", "from", "to", "signal" } }       a publish the edge relayed to this client
 *   { "peers": ["…"] }                                     y-webrtc found peers
 *   { "remote": { "type", "sdp" } }                        simple-peer took a description from a peer
 *
 * Usage: `node client/test/y-webrtc-peer.ts <signaling url> <room> <name>`;
 * it runs until it is killed.
 */
import { WebrtcProvider } from 'y-webrtc'
import * as Y from 'yjs'

const [url, room, name] = process.argv.slice(2) as [string, string, string]

function report(event: object): void {
  process.stdout.write(`${JSON.stringify(event)}\n`)
}

interface Publish {
  type?: string
  data?: { type?: string; from?: string; to?: string; signal?: { type?: string } }
}

/** The WebSocket lib0 opens for y-webrtc (it takes the global one), reporting each publish it hears. */
class HearingWebSocket extends WebSocket {
  constructor(address: string | URL, protocols?: ConstructorParameters<typeof WebSocket>[1]) {
    super(address, protocols)
    this.addEventListener('message', (event) => {
      const message = JSON.parse(String(event.data)) as Publish
      if (message.type !== 'publish') return
      const { type, from, to, signal } = message.data ?? {}
      report({ heard: { type, from, to, signal: signal?.type } })
    })
  }
}
globalThis.WebSocket = HearingWebSocket

interface DescriptionInit {
  type: string
  sdp: string
}

class Description {
  readonly type: string
  readonly sdp: string
  constructor(init: DescriptionInit) {
    this.type = init.type
    this.sdp = init.sdp
  }
}

/** Enough of an RTCPeerConnection for simple-peer to make and take offers and answers; it never connects. */
class StandInPeerConnection {
  localDescription: Description | null = null
  remoteDescription: Description | null = null
  readonly iceConnectionState = 'new'
  readonly iceGatheringState = 'new'
  readonly connectionState = 'new'
  readonly signalingState = 'stable'

  createDataChannel(label: string): object {
    return { label, binaryType: 'arraybuffer', close: () => {} }
  }

  async createOffer(): Promise<DescriptionInit> {
    return { type: 'offer', sdp: `stand-in offer of ${name}` }
  }

  async createAnswer(): Promise<DescriptionInit> {
    return { type: 'answer', sdp: `stand-in answer of ${name}` }
  }

  async setLocalDescription(init: DescriptionInit): Promise<void> {
    this.localDescription = new Description(init)
  }

  async setRemoteDescription(init: DescriptionInit): Promise<void> {
    this.remoteDescription = new Description(init)
    report({ remote: { type: init.type, sdp: init.sdp } })
  }

  async addIceCandidate(): Promise<void> {}

  close(): void {}
}

const provider = new WebrtcProvider(room, new Y.Doc(), {
  signaling: [url],
  peerOpts: {
    wrtc: { RTCPeerConnection: StandInPeerConnection, RTCSessionDescription: Description, RTCIceCandidate: Object },
  },
})
// The room opens once the provider's (absent) password has been derived; `status` follows at once.
provider.once('status', () => report({ peerId: provider.room?.peerId }))
provider.on('peers', ({ added }) => {
  if (added.length > 0) report({ peers: added })
})
