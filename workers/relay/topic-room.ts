/**
 * `TopicRoom`, one Durable Object per pubsub topic (the seed's Topic Manager
 * at the edge). It verifies every signed message, drops duplicates by
 * message id (what stops loops once the bridge and federation forward
 * messages between networks), stores a bounded history in SQLite before
 * fanning a message out, and lets a subscriber that reconnects resume from
 * its last cursor or message id. Protocol: `shared/src/topic-protocol.ts`.
 *
 * Back-pressure is explicit: subscribers acknowledge cursors, and one that
 * falls `Limits.maxTopicUnacked` messages behind is dropped with 4430,
 * because the runtime offers no view of a socket's send buffer and a room
 * must not hold unbounded memory for a reader that cannot keep up.
 */

import {
  CloseCode,
  decodeEnvelope,
  decodeTopicClientFrame,
  ErrorCode,
  encodeEnvelope,
  encodeTopicFrame,
  Limits,
  messageId,
  type TopicEnvelope,
  TopicFrameType,
  VivimError,
  validateEnvelope,
} from '@vivim/shared'
import { topicMessageStored } from '../federation/hooks.ts'
import { Room } from './room.ts'
import { isUpgrade, readRoomRequest } from './room-headers.ts'
import { socketState } from './socket-state.ts'
import { type TopicRetention, TopicStore } from './topic-store.ts'

interface Flow {
  /** The last cursor sent to the socket. */
  sent: number
  /** The last cursor the socket acknowledged. */
  acked: number
}

export interface PublishResult {
  readonly id: string
  readonly cursor: number
  readonly duplicate: boolean
}

interface Published extends PublishResult {
  /** Settles once federation's outboxes hold the message: the publisher is answered only then. */
  readonly handedOn: Promise<void>
}

export class TopicRoom extends Room {
  private readonly store: TopicStore
  private readonly retention: TopicRetention
  private readonly flows = new WeakMap<WebSocket, Flow>()

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    this.store = new TopicStore(ctx.storage)
    this.retention = retentionOf(env)
  }

  override fetch(request: Request): Promise<Response> {
    return this.answer(async () => {
      const { name, access, resume } = readRoomRequest(request)
      this.claim(access, 'topic')
      const topic = this.store.bindTopic(name)
      if (!isUpgrade(request)) {
        if (!access.canWrite) throw new VivimError(ErrorCode.Forbidden, 'this credential may not publish here')
        const envelope = decodeEnvelope(new Uint8Array(await request.arrayBuffer()))
        const { handedOn, ...result } = this.publish(topic, envelope)
        await handedOn
        return Response.json(result)
      }
      const [client, server] = await this.acceptSocket(access)
      this.replay(server, resume)
      return new Response(null, { status: 101, webSocket: client })
    })
  }

  override webSocketMessage(ws: WebSocket, message: ArrayBuffer | string): void {
    const bytes = this.screen(ws, message)
    if (bytes !== null) this.receive(ws, bytes)
  }

  private receive(ws: WebSocket, bytes: Uint8Array): void {
    let frame: ReturnType<typeof decodeTopicClientFrame>
    try {
      frame = decodeTopicClientFrame(bytes)
    } catch (error) {
      this.reject(ws, CloseCode.BadFrame, `not a topic frame: ${(error as Error).message}`)
      return
    }
    if (frame.t === TopicFrameType.Ack) {
      const flow = this.flow(ws)
      flow.acked = Math.min(flow.sent, Math.max(flow.acked, frame.c))
      return
    }
    try {
      if (!socketState(ws).canWrite) throw new VivimError(ErrorCode.Forbidden, 'this credential may not publish here')
      const result = this.publish(this.store.topic() ?? '', frame.e)
      const ok = encodeTopicFrame({ t: TopicFrameType.Ok, id: result.id, c: result.cursor, dup: result.duplicate })
      void result.handedOn.then(() => this.send(ws, ok))
    } catch (error) {
      if (!(error instanceof VivimError)) throw error
      this.send(ws, encodeTopicFrame({ t: TopicFrameType.Error, code: error.code, message: error.message }))
    }
  }

  /** Validates, stores, then fans out; a known message id is acknowledged and not sent again. */
  private publish(topic: string, envelope: TopicEnvelope): Published {
    const now = Date.now()
    validateEnvelope(envelope, { topic, now, maxAgeMs: this.retention.maxAgeMs })
    const id = messageId(envelope)
    const { cursor, duplicate } = this.store.append(
      id,
      envelope.timestamp,
      encodeEnvelope(envelope),
      this.retention,
      now,
    )
    if (duplicate) return { id, cursor, duplicate, handedOn: Promise.resolve() }
    this.broadcast(cursor, encodeTopicFrame({ t: TopicFrameType.Message, c: cursor, e: envelope }))
    return { id, cursor, duplicate, handedOn: topicMessageStored(this.env, envelope) }
  }

  /** Sends what a resuming subscriber missed, in order, then `live`; says so when its point is gone. */
  private replay(ws: WebSocket, resume: string | null): void {
    const latest = this.store.latest
    let from = latest
    if (resume?.startsWith('cursor:')) from = Number(resume.slice('cursor:'.length))
    if (resume?.startsWith('after:')) from = this.store.cursorOf(resume.slice('after:'.length)) ?? -1
    const oldest = this.store.oldest() ?? latest + 1
    const lost = from === -1 || from > latest || (from !== 0 && from < oldest - 1)
    if (lost) {
      this.send(ws, encodeTopicFrame({ t: TopicFrameType.Gap, from: Math.max(from, 0), oldest }))
      from = oldest - 1
    }
    for (const m of this.store.after(from)) {
      this.send(ws, encodeTopicFrame({ t: TopicFrameType.Message, c: m.cursor, e: decodeEnvelope(m.envelope) }))
    }
    this.flows.set(ws, { sent: latest, acked: Math.max(from, 0) })
    this.send(ws, encodeTopicFrame({ t: TopicFrameType.Live, c: latest }))
  }

  private broadcast(cursor: number, frame: Uint8Array): void {
    for (const ws of this.ctx.getWebSockets()) {
      if (this.rejected.has(ws)) continue
      const flow = this.flow(ws)
      if (flow.sent - flow.acked >= Limits.maxTopicUnacked) {
        this.reject(ws, CloseCode.TooSlow, `more than ${Limits.maxTopicUnacked} messages unacknowledged`)
        continue
      }
      this.send(ws, frame)
      flow.sent = cursor
    }
  }

  /** A socket's flow; after hibernation it starts level with the room, since nothing was in flight. */
  private flow(ws: WebSocket): Flow {
    let flow = this.flows.get(ws)
    if (!flow) {
      flow = { sent: this.store.latest, acked: this.store.latest }
      this.flows.set(ws, flow)
    }
    return flow
  }
}

function retentionOf(env: Env): TopicRetention {
  const messages = Number(env.TOPIC_HISTORY_MESSAGES)
  const seconds = Number(env.TOPIC_HISTORY_SECONDS)
  return {
    maxMessages: Math.min(
      Number.isSafeInteger(messages) && messages > 0 ? messages : 1000,
      Limits.maxTopicHistoryMessages,
    ),
    maxAgeMs: (Number.isSafeInteger(seconds) && seconds > 0 ? seconds : 86_400) * 1000,
  }
}
