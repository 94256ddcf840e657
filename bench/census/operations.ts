/**
 * The single operations `npm run bench:census` measures, one path each, as
 * the census workload's people do them (`workers/federation/test/`): each
 * has what it needs made first (`prepare`, not counted), then runs one
 * operation at a time and resolves once the edge has shown it done, so the
 * census read afterwards divided by the runs is that operation's cost.
 * Every instance federates with the other, as configured peers do: a topic
 * opened on A is subscribed at B.
 */
import { type Capability, decodeTopicServerFrame, formatRecordKey, type Identity, TopicFrameType } from '@vivim/shared'
import WebSocket from 'ws'
import type { VivimDocProvider } from '../../client/src/doc-provider.ts'
import { VivimClient } from '../../client/src/vivim-client.ts'
import {
  joinSignaling,
  mapOf,
  memberOf,
  openSynced,
  publishAndSubscribe,
  recordOf,
  revokeGrant,
  type SignalingSession,
  type Subscription,
} from '../../workers/federation/test/census-actors.ts'
import { linkReplica } from '../../workers/federation/test/census-workload.ts'
import { type Instance, waitFor } from '../../workers/federation/test/instances.ts'
import { identities } from '../index/corpus.ts'

/** One path: what its `runs` operations need, then one operation (`i` counts the runs from 0). */
export interface Operation {
  readonly path: string
  prepare?(runs: number): Promise<void>
  run(i: number): Promise<void>
}

/** Until `provider`'s map holds `key`. */
const holds = (provider: VivimDocProvider, key: string) =>
  waitFor(`${key} arrived`, () => (mapOf(provider).has(key) ? true : undefined))

/** A subscription socket opened with an invocation, closed as soon as the room says it is live. */
async function subscribeUntilLive(edge: string, client: VivimClient, topic: string): Promise<void> {
  const token = await (client.tokenFor(`topic:${topic}`) as () => Promise<string>)()
  const url = `${edge.replace(/^http/, 'ws')}/v1/topics/${encodeURIComponent(topic)}?token=${token}`
  const ws = new WebSocket(url)
  await new Promise<void>((resolve, reject) => {
    ws.on('message', (data: Buffer) => {
      if (decodeTopicServerFrame(new Uint8Array(data)).t === TopicFrameType.Live) resolve()
    })
    ws.once('error', reject)
    ws.once('close', (code: number) => reject(new Error(`closed ${code} before live`)))
  })
  ws.close(1000, 'done')
}

/** Every path, on A (and B where it federates), for `owner`, who owns every resource here. */
export function operations(a: Instance, b: Instance, owner: Identity): Operation[] {
  const ownerAt = new VivimClient({ edge: a.url, identity: owner })
  const ownerAtB = new VivimClient({ edge: b.url, identity: owner })
  const people = identities(400, 4242)
  let next = 0
  const person = () => people[next++ % people.length] as Identity
  const doc = 'notes:bench-doc'
  const federated = 'notes:bench-fed'
  const topic = `user:bench:${owner.did}`
  const held: { writer?: VivimDocProvider; observer?: VivimDocProvider; listeners?: Subscription[] } = {}
  let signaling: SignalingSession | undefined
  const atB: string[] = []
  /** An edit by the held writer, resolved once the held observer has it. */
  const editSeen = (prefix: string) => async (i: number) => {
    mapOf(held.writer as VivimDocProvider).set(`${prefix}-${i}`, 'x')
    await holds(held.observer as VivimDocProvider, `${prefix}-${i}`)
  }
  const revocable: Capability[] = []

  return [
    {
      path: 'document connect by its owner (sync, then close)',
      prepare: async () => (await openSynced(ownerAt, doc)).destroy(),
      run: async () => (await openSynced(ownerAt, doc)).destroy(),
    },
    {
      path: 'document connect by a member (a chain of two tokens)',
      run: async () => (await openSynced(memberOf(a.url, person(), ownerAt).client, doc)).destroy(),
    },
    {
      path: 'document update (one edit, one reader)',
      prepare: async () => {
        held.writer = await openSynced(ownerAt, doc)
        held.observer = await openSynced(memberOf(a.url, person(), ownerAt).client, doc)
      },
      run: editSeen('edit'),
    },
    {
      path: 'document update at its home, flushed to a replica (A to B)',
      prepare: async () => {
        held.writer?.destroy()
        held.observer?.destroy()
        held.writer = await openSynced(ownerAt, federated)
        await linkReplica(b, a, owner, federated)
        held.observer = await openSynced(ownerAtB, federated)
      },
      run: editSeen('fed'),
    },
    {
      path: 'document connect at a replica (B: a state-vector exchange with the home, A)',
      prepare: async () => {
        held.writer?.destroy()
        held.observer?.destroy()
      },
      run: async () => (await openSynced(ownerAtB, federated)).destroy(),
    },
    {
      path: 'topic subscribe (connect until live, then close)',
      prepare: async () => void (await ownerAt.publish(topic, 'first')),
      run: () => subscribeUntilLive(a.url, ownerAt, topic),
    },
    {
      path: 'topic publish over HTTP (2 subscribers on A, the topic subscribed at B)',
      prepare: async () => {
        held.listeners = [
          await publishAndSubscribe(ownerAt, topic, 'a'),
          await publishAndSubscribe(ownerAt, topic, 'b'),
        ]
      },
      run: async () => {
        const { id } = await ownerAt.publish(topic, 'census')
        await waitFor('both subscribers', () => (held.listeners?.every((l) => l.ids.has(id)) ? true : undefined))
      },
    },
    {
      path: 'record write (a new key; pushed to the linked bridge)',
      prepare: async () => {
        for (const listener of held.listeners ?? []) listener.stop()
      },
      run: async () => void (await ownerAt.records.put(recordOf(person(), 'profile', '{"name":"census"}'))),
    },
    {
      path: 'record read, from the edge cache',
      prepare: async () => {
        await ownerAt.records.put(recordOf(owner, 'profile', '{"name":"owner"}'))
        await ownerAt.records.get(formatRecordKey({ kind: 'profile', owner: owner.did }))
      },
      run: async () => {
        if (!(await ownerAt.records.get(formatRecordKey({ kind: 'profile', owner: owner.did }))))
          throw new Error('no record')
      },
    },
    {
      path: 'record read, missing here, found at the peer (the bridge asked first)',
      prepare: async () => {
        for (let i = 0; i < 64; i++) {
          const author = person()
          await ownerAtB.records.put(recordOf(author, 'profile', '{"name":"at B"}'))
          atB.push(formatRecordKey({ kind: 'profile', owner: author.did }))
        }
      },
      run: async (i) => {
        if (!(await ownerAt.records.get(atB[i % atB.length] as string))) throw new Error('not found at the peer')
      },
    },
    {
      path: 'record read, missing everywhere (the bridge and the peer asked)',
      run: async () => {
        const key = formatRecordKey({ kind: 'profile', owner: person().did })
        if ((await ownerAt.records.get(key)) !== null) throw new Error('found a record nobody wrote')
      },
    },
    {
      path: 'search (one word)',
      run: async () => void (await ownerAt.records.search('census')),
    },
    {
      path: 'signaling connect and join one room',
      run: async () => (await joinSignaling(a.url, ownerAt, doc)).close(),
    },
    {
      path: 'signaling message (one publish, relayed to the room)',
      prepare: async () => {
        signaling = await joinSignaling(a.url, ownerAt, doc)
      },
      run: () => (signaling as SignalingSession).publish(1),
    },
    {
      path: 'revocation of a grant used once on one document (passed on to B)',
      prepare: async (runs) => {
        signaling?.close()
        for (let i = 0; i < runs; i++) {
          const member = memberOf(a.url, person(), ownerAt)
          ;(await openSynced(member.client, doc)).destroy()
          revocable.push(member.grants[0] as Capability)
        }
      },
      run: (i) => revokeGrant(a.url, owner, revocable[i] as Capability),
    },
  ]
}
