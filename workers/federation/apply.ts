/**
 * What a received activity does here. Every one is idempotent (topic rooms
 * drop known message ids, Yjs ignores updates it holds, a revocation is
 * stored once), so a transaction applied twice after a crash changes
 * nothing the second time. A `VivimError` means the activity itself is bad
 * and will never apply; anything else is transient and the sender retries.
 *
 * @example
 * ```ts
 * await applyActivity(env, { did, domain: 'a.example' }, { t: ActivityType.TopicSubscribe, topic })
 * ```
 */
import {
  type Activity,
  ActivityType,
  decodeEnvelope,
  decodeRevocation,
  ErrorCode,
  parseDocId,
  parseTopic,
  unwrap,
  VivimError,
} from '@vivim/shared'
import * as Y from 'yjs'
import { revoke } from '../auth/revocation-registry.ts'
import { applyDocUpdate, docState } from './doc-link.ts'
import { enqueue } from './enqueue.ts'
import { linkPeer, linksOf } from './hub.ts'
import type { Peer } from './signed-request.ts'

/** An empty Yjs update: nothing to send. */
const isEmptyUpdate = (update: Uint8Array) => update.length <= 2 && update.every((b) => b === 0)

export async function applyActivity(env: Env, peer: Peer, activity: Activity): Promise<void> {
  switch (activity.t) {
    case ActivityType.TopicSubscribe:
      parseTopic(activity.topic)
      await linkPeer(env, 'topic', activity.topic, peer.domain, 'peer')
      return
    case ActivityType.TopicMessage: {
      parseTopic(activity.topic)
      const envelope = decodeEnvelope(activity.envelope)
      if (envelope.topic !== activity.topic)
        throw new VivimError(ErrorCode.InvalidEnvelope, 'the message is for another topic')
      await linkPeer(env, 'topic', activity.topic, peer.domain, 'peer')
      unwrap(
        await env.TOPIC_ROOM.getByName(activity.topic).remotePublish(activity.topic, activity.envelope, peer.domain),
      )
      return
    }
    case ActivityType.DocSync: {
      parseDocId(activity.doc)
      // Checked before anything is linked: the room would close the link on it, and the sender retry forever.
      try {
        Y.decodeStateVector(activity.sv)
      } catch {
        throw new VivimError(ErrorCode.BadRequest, 'not a Yjs state vector')
      }
      const links = await linksOf(env, 'doc', activity.doc)
      // A replica asks its home; a home answering our sync must already be linked as ours.
      if (activity.reply && !links.some((l) => l.peer === peer.domain)) throw notLinked(activity.doc)
      if (!activity.reply) await linkPeer(env, 'doc', activity.doc, peer.domain, 'replica')
      const { diff, stateVector } = await docState(env, activity.doc, activity.sv)
      if (diff !== null && !isEmptyUpdate(diff))
        await enqueue(env, peer.domain, { t: ActivityType.DocUpdate, doc: activity.doc, update: diff })
      if (!activity.reply) {
        await enqueue(env, peer.domain, { t: ActivityType.DocSync, doc: activity.doc, sv: stateVector, reply: true })
      }
      return
    }
    case ActivityType.DocUpdate: {
      parseDocId(activity.doc)
      const links = await linksOf(env, 'doc', activity.doc)
      if (!links.some((l) => l.peer === peer.domain)) throw notLinked(activity.doc)
      try {
        Y.decodeUpdate(activity.update)
      } catch {
        throw new VivimError(ErrorCode.BadRequest, 'not a Yjs update')
      }
      await applyDocUpdate(env, activity.doc, activity.update, peer.domain)
      return
    }
    case ActivityType.DocHome: {
      // The sender is the home of a document this instance replicates (after it lost its state):
      // link it as the home and catch up both ways, as an open with `?home=` would.
      parseDocId(activity.doc)
      await linkPeer(env, 'doc', activity.doc, peer.domain, 'home')
      const { stateVector: sv } = await docState(env, activity.doc)
      await enqueue(env, peer.domain, { t: ActivityType.DocSync, doc: activity.doc, sv, reply: false })
      return
    }
    case ActivityType.DocPart:
    case ActivityType.Gap:
      // The inbox handles these itself: parts are joined into a doc.update, a gap moves its cursor.
      throw new VivimError(ErrorCode.BadRequest, `${activity.t} is the inbox's to handle`)
    case ActivityType.Revocation: {
      decodeRevocation(activity.revocation)
      await revoke(env, activity.revocation, activity.token)
      return
    }
  }
}

function notLinked(doc: string): VivimError {
  return new VivimError(ErrorCode.Forbidden, `the document ${doc} is not federated with this peer`)
}
