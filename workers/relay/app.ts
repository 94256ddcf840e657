/**
 * The relay: Yjs document rooms (`/v1/docs/<docId>`), pubsub topic rooms
 * (`/v1/topics/<topic>`), sealed documents (`/v1/sealed/<docId>`) and WebRTC
 * signaling (`/v1/signaling`), each backed by Durable Objects.
 *
 * Documents are also read, written and deleted over HTTP (`doc-http.ts`).
 *
 * Ownership: a document or public topic nobody owns is claimed only by a
 * WebSocket connect whose credential may write. A circle's or
 * conversation's topics and a document's sealed twin follow the owner of the
 * document (`governingDoc`, `DOC_ROOM`): a write connect to one of them
 * before the document is owned claims the document, in its own room.
 */
import { ErrorCode, parseDocId, parseTopic, VivimError } from '@vivim/shared'
import { Hono } from 'hono'
import { governingDoc } from '../auth/resource-owner.ts'
import { edgeEvents } from '../extensions/events.ts'
import { type Access, authorize } from '../http/access.ts'
import type { AppEnv } from '../http/types.ts'
import { docsOverHttp } from './doc-http.ts'
import { connectRequest, isUpgrade, roomRequest } from './room-headers.ts'
import { authorizeSignaling } from './signaling-access.ts'
import { acceptSignaling } from './signaling-session.ts'
import type { TopicRoom } from './topic-room.ts'

export const relay = new Hono<AppEnv>()

relay.get('/v1/docs/:docId', async (c) => {
  const { docId } = parseDocId(c.req.param('docId'))
  if (!isUpgrade(c.req.raw)) {
    throw new VivimError(ErrorCode.UpgradeRequired, 'a document is reached over a WebSocket')
  }
  const room = c.env.DOC_ROOM.getByName(docId)
  const access = await authorize(c.req.raw, c.env, `doc:${docId}`, {
    roomOwner: () => room.owner(),
    claim: true,
    watch: { kind: 'doc', name: docId },
  })
  c.executionCtx.waitUntil(edgeEvents.docOpened(c.env, { docId, home: c.req.query('home') ?? null }))
  return room.fetch(connectRequest(docId, access))
})

// Reading, writing and deleting a document without a socket (`doc-http.ts`).
relay.route('/', docsOverHttp)

const RESUME_ID = /^[A-Za-z0-9_-]{43}$/

relay.get('/v1/topics/:topic', async (c) => {
  const topic = c.req.param('topic')
  parseTopic(topic)
  if (!isUpgrade(c.req.raw)) throw new VivimError(ErrorCode.UpgradeRequired, 'subscribe to a topic over a WebSocket')
  const cursor = c.req.query('cursor')
  const after = c.req.query('after')
  let resume: string | null = null
  if (cursor !== undefined) {
    if (!/^\d{1,15}$/.test(cursor)) throw new VivimError(ErrorCode.BadRequest, 'cursor is a non-negative integer')
    resume = `cursor:${cursor}`
  } else if (after !== undefined) {
    if (!RESUME_ID.test(after))
      throw new VivimError(ErrorCode.BadRequest, 'after is a message id (43 base64url characters)')
    resume = `after:${after}`
  }
  const room = c.env.TOPIC_ROOM.getByName(topic)
  const ownership = topicOwnership(c.env, topic, room)
  const access = await authorize(c.req.raw, c.env, `topic:${topic}`, {
    ...ownership,
    claim: true,
    watch: { kind: 'topic', name: topic },
  })
  c.executionCtx.waitUntil(edgeEvents.topicOpened(c.env, { topic }))
  const claimed = ownership.follows === undefined ? access : await claimFollowed(c.env, ownership.follows, access)
  return room.fetch(connectRequest(topic, claimed, resume))
})

relay.post('/v1/topics/:topic', async (c) => {
  const topic = c.req.param('topic')
  parseTopic(topic)
  const room = c.env.TOPIC_ROOM.getByName(topic)
  // A publish never creates a topic: claiming by one POST would let anyone squat a name.
  const { roomOwner, follows } = topicOwnership(c.env, topic, room)
  const access = await authorize(c.req.raw, c.env, `topic:${topic}`, { roomOwner, follows })
  if (!access.canWrite) throw new VivimError(ErrorCode.Forbidden, 'this credential may not publish here')
  const body = new Uint8Array(await c.req.arrayBuffer())
  return room.fetch(roomRequest('/publish', topic, access, body))
})

relay.get('/v1/signaling', async (c) => {
  if (!isUpgrade(c.req.raw)) throw new VivimError(ErrorCode.UpgradeRequired, 'signaling runs over a WebSocket')
  // The Worker holds the socket; the rooms it may join are decided per subscribe, from the grant decided here.
  const access = await authorizeSignaling(c.req.raw, c.env)
  return acceptSignaling(c.env, access)
})

relay.get('/v1/sealed/:docId', async (c) => {
  const { docId } = parseDocId(c.req.param('docId'))
  if (!isUpgrade(c.req.raw))
    throw new VivimError(ErrorCode.UpgradeRequired, 'a sealed document is reached over a WebSocket')
  const after = c.req.query('after')
  if (after !== undefined && !/^\d{1,15}$/.test(after)) {
    throw new VivimError(ErrorCode.BadRequest, 'after is a non-negative integer')
  }
  const room = c.env.SEALED_DOC_ROOM.getByName(docId)
  // The sealed twin of X shares X's resource and owner: whoever may read or write X may do so here.
  const access = await authorize(c.req.raw, c.env, `doc:${docId}`, {
    roomOwner: () => c.env.DOC_ROOM.getByName(docId).owner(),
    claim: true,
    follows: docId,
    watch: { kind: 'sealed', name: docId },
  })
  const claimed = await claimFollowed(c.env, docId, access)
  return room.fetch(connectRequest(docId, claimed, after === undefined ? null : `cursor:${after}`))
})

/**
 * A connect that creates a resource following document `docId` (its sealed twin, a circle's topic)
 * makes its creator the document's owner, in the document's room; the resource's own room claims nothing.
 */
async function claimFollowed(env: Env, docId: string, access: Access): Promise<Access> {
  if (access.newOwner === null) return access
  if (!(await env.DOC_ROOM.getByName(docId).claimOwner(access.newOwner))) {
    throw new VivimError(ErrorCode.Forbidden, `another creator claimed doc:${docId} first`)
  }
  return { ...access, newOwner: null }
}

/** Who owns `topic`: a circle's or conversation's topic follows its document. */
function topicOwnership(
  env: Env,
  topic: string,
  room: DurableObjectStub<TopicRoom>,
): { roomOwner: () => Promise<string | null>; follows?: string } {
  const doc = governingDoc(`topic:${topic}`)
  if (doc === null) return { roomOwner: () => room.owner() }
  return { roomOwner: () => env.DOC_ROOM.getByName(doc).owner(), follows: doc }
}
