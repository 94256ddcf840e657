/** A topic subscriber on Node over a real WebSocket (`ws`), keeping every frame it receives. */
import {
  createEnvelope,
  decodeTopicServerFrame,
  encodeEnvelope,
  encodeTopicFrame,
  type Identity,
  type TopicEnvelope,
  TopicFrameType,
  type TopicServerFrame,
} from '@vivim/shared'
import WebSocket from 'ws'

export class TopicSubscriber {
  readonly frames: TopicServerFrame[] = []
  readonly ws: WebSocket
  private constructor(ws: WebSocket) {
    this.ws = ws
    ws.on('message', (data: Buffer) => {
      const frame = decodeTopicServerFrame(new Uint8Array(data))
      this.frames.push(frame)
      if (frame.t === TopicFrameType.Message) ws.send(encodeTopicFrame({ t: TopicFrameType.Ack, c: frame.c }))
    })
  }

  /** Subscribes and waits for `live` (history, if `cursor` asks for it, comes first). */
  static async open(url: string, topic: string, cursor?: number): Promise<TopicSubscriber> {
    const query = cursor === undefined ? '' : `?cursor=${cursor}`
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/topics/${encodeURIComponent(topic)}${query}`)
    const subscriber = new TopicSubscriber(ws)
    await new Promise<void>((resolve, reject) => {
      ws.once('error', reject)
      const timer = setInterval(() => {
        if (subscriber.frames.some((f) => f.t === TopicFrameType.Live)) {
          clearInterval(timer)
          resolve()
        }
      }, 20)
    })
    return subscriber
  }

  /** The envelopes received, in order. */
  messages(): TopicEnvelope[] {
    return this.frames.flatMap((f) => (f.t === TopicFrameType.Message ? [f.e] : []))
  }

  close(): void {
    this.ws.close()
  }
}

/** Publishes a text message by `author` over HTTP at an instance; throws unless it is accepted. */
export async function publishText(at: { url: string }, author: Identity, topic: string, text: string) {
  const envelope = createEnvelope(author, { topic, payload: new TextEncoder().encode(text) })
  const response = await fetch(`${at.url}/v1/topics/${topic}`, { method: 'POST', body: encodeEnvelope(envelope) })
  if (response.status !== 200) throw new Error(`publish at ${at.url}: ${response.status} ${await response.text()}`)
  return envelope
}
