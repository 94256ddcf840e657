/**
 * A topic subscriber at the edge for bridge tests: a plain WebSocket to
 * `/v1/topics/<topic>` speaking the topic protocol, as an SDK client would.
 */
import { decodeTopicServerFrame, encodeEnvelope, messageId, type TopicEnvelope, topicMessagesOf } from '@vivim/shared'
import WebSocket from 'ws'

export class EdgeSubscriber {
  readonly envelopes: TopicEnvelope[] = []
  private readonly ws: WebSocket

  private constructor(ws: WebSocket) {
    this.ws = ws
    ws.on('message', (data: Buffer) => {
      // A replay sends `msg` frames; a live flush may send several messages in one `msgs`.
      for (const m of topicMessagesOf(decodeTopicServerFrame(new Uint8Array(data)))) this.envelopes.push(m.e)
    })
  }

  /** Subscribes live, or from `cursor` (0 for the room's whole history). */
  static async connect(edgeUrl: string, topic: string, options: { cursor?: number } = {}): Promise<EdgeSubscriber> {
    const query = options.cursor === undefined ? '' : `?cursor=${options.cursor}`
    const ws = new WebSocket(`${edgeUrl.replace(/^http/, 'ws')}/v1/topics/${topic}${query}`)
    await new Promise<void>((done, fail) => {
      ws.once('open', () => done())
      ws.once('error', fail)
    })
    return new EdgeSubscriber(ws)
  }

  /** How many times a message with this id arrived. */
  count(id: string): number {
    return this.envelopes.filter((e) => messageId(e) === id).length
  }

  close(): void {
    this.ws.close()
  }
}

/** Publishes a signed envelope at the edge over HTTP. */
export async function publishAtEdge(edgeUrl: string, envelope: TopicEnvelope): Promise<void> {
  const res = await fetch(`${edgeUrl}/v1/topics/${envelope.topic}`, { method: 'POST', body: encodeEnvelope(envelope) })
  if (!res.ok) throw new Error(`publish answered ${res.status}: ${await res.text()}`)
}
