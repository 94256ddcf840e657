/**
 * What this instance still has for a peer that lost its state (its inbox
 * cursor fell behind what it had acknowledged): sent again after a `gap`,
 * so the peer rebuilds what federation gave it, as far as this instance
 * still holds it.
 *
 *   topics       `topic.subscribe` (the peer relinks the topic), then every
 *                message the topic room still keeps; the peer's room drops
 *                the ids it holds;
 *   documents    a state-vector exchange: `doc.sync` to a home, `doc.home`
 *                to a replica (which links us as its home and sends
 *                `doc.sync`); each side then sends what the other lacks;
 *   revocations  every revocation this instance passed on.
 *
 * @example
 * ```ts
 * const activities = await recoveryFor(env, 'b.example')
 * ```
 */
import {
  type Activity,
  ActivityType,
  decodeTopicServerFrame,
  ErrorCode,
  encodeEnvelope,
  TopicFrameType,
  VivimError,
} from '@vivim/shared'
import { connectRequest } from '../relay/room-headers.ts'
import { FEDERATED_ACCESS, withDocRoom } from './doc-link.ts'
import { federationHub } from './hub.ts'

const WAIT_MS = 15_000

export async function recoveryFor(env: Env, domain: string): Promise<Activity[]> {
  const hub = federationHub(env)
  const out: Activity[] = []
  for (const link of await hub.linksWith(domain)) {
    if (link.kind === 'topic') {
      out.push({ t: ActivityType.TopicSubscribe, topic: link.name })
      for (const envelope of await topicHistory(env, link.name)) {
        out.push({ t: ActivityType.TopicMessage, topic: link.name, envelope })
      }
    } else if (link.role === 'home') {
      const sv = await withDocRoom(env, link.name, async (room) => room.stateVector)
      out.push({ t: ActivityType.DocSync, doc: link.name, sv, reply: false })
    } else {
      out.push({ t: ActivityType.DocHome, doc: link.name })
    }
  }
  for (const { revocation, token } of await hub.passedRevocations()) {
    out.push({ t: ActivityType.Revocation, revocation, token })
  }
  return out
}

/** The encoded envelopes a topic room keeps, oldest first: its replay from cursor 0, up to `live`. */
async function topicHistory(env: Env, topic: string): Promise<Uint8Array[]> {
  const response = await env.TOPIC_ROOM.getByName(topic).fetch(connectRequest(topic, FEDERATED_ACCESS, 'cursor:0'))
  const ws = response.webSocket
  if (!ws) throw new VivimError(ErrorCode.Forbidden, `the topic room refused the link (${response.status})`)
  const envelopes: Uint8Array[] = []
  ws.accept()
  ws.binaryType = 'arraybuffer'
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the topic room ${topic} did not replay`)), WAIT_MS)
      ws.addEventListener('message', (event) => {
        if (typeof event.data === 'string') return
        const frame = decodeTopicServerFrame(new Uint8Array(event.data as ArrayBuffer))
        if (frame.t === TopicFrameType.Message) envelopes.push(encodeEnvelope(frame.e))
        if (frame.t === TopicFrameType.Live) {
          clearTimeout(timer)
          resolve()
        }
      })
      ws.addEventListener('close', (event) => {
        clearTimeout(timer)
        reject(new Error(`the topic room closed the link (${event.code} ${event.reason})`))
      })
    })
  } finally {
    try {
      ws.close(1000, 'done')
    } catch {}
  }
  return envelopes
}
