/**
 * What one member of the census workload does in a phase, as an app would:
 * open three documents and edit each twice, publish three messages over two
 * topics and subscribe to one of them, write two records, search, and signal
 * in a WebRTC room; then, once everyone on both instances wrote, read
 * records: two of its own side's, one only the other instance holds (asked
 * of the peer, through the bridge first on A) and, for every third member,
 * one nobody holds. The edits and messages are noted in `Expected`, which the
 * phase waits for at the owner's observers.
 */
import { formatRecordKey, type Identity } from '@vivim/shared'
import { identities } from '../../../bench/index/corpus.ts'
import type { Member } from './census-actors.ts'
import { mapOf, openSynced, publishAndSubscribe, recordOf, signal } from './census-actors.ts'
import type { Side } from './census-workload.ts'
import { waitFor } from './instances.ts'

/** The edits (document → keys) and messages (topic → ids) a phase made. */
export interface Expected {
  readonly keys: Map<string, Set<string>>
  readonly ids: Map<string, Set<string>>
}

function note(map: Map<string, Set<string>>, at: string, value: string): void {
  const values = map.get(at) ?? new Set<string>()
  values.add(value)
  map.set(at, values)
}

/** `count` distinct items of `from`, picked with `random`. */
function pick<T>(random: () => number, from: readonly T[], count: number): T[] {
  const pool = [...from]
  return Array.from({ length: count }, () => pool.splice(Math.floor(random() * pool.length), 1)[0] as T)
}

/** A member's work on its side: documents, topics, records, a search and signaling. */
export async function memberWork(
  side: Side,
  member: Member,
  tag: string,
  random: () => number,
  expected: Expected,
): Promise<void> {
  const { client } = member
  const identity = client.identity as NonNullable<typeof client.identity>
  const docs = pick(random, side.docs, 3)
  const [first, second] = pick(random, side.topics, 2) as [string, string]
  const providers = await Promise.all(docs.map((d) => openSynced(client, d)))
  providers.forEach((provider, n) => {
    for (const k of [0, 1]) {
      mapOf(provider).set(`${tag}-${n}${k}`, 'x')
      note(expected.keys, docs[n] as string, `${tag}-${n}${k}`)
    }
  })
  // The owner's observers hold the edits before the member leaves: nothing is left to a closing socket.
  await Promise.all(
    docs.map((d, n) => {
      const observer = side.observers.get(d)
      return waitFor(`${tag}'s edits of ${d}`, () => (observer?.doc.getMap('m').has(`${tag}-${n}1`) ? true : undefined))
    }),
  )
  for (const provider of providers) provider.destroy()

  const subscription = await publishAndSubscribe(client, first, `${tag} hello`)
  const again = await client.publish(first, `${tag} again`)
  const elsewhere = await client.publish(second, `${tag} elsewhere`)
  await waitFor(`${tag}'s second message`, () => (subscription.ids.has(again.id) ? true : undefined))
  subscription.stop()
  note(expected.ids, first, subscription.first)
  note(expected.ids, first, again.id)
  note(expected.ids, second, elsewhere.id)

  await client.records.put(recordOf(identity, 'profile', `{"name":"census ${tag}"}`))
  await client.records.put(recordOf(identity, 'post', `census post by ${tag}`, tag))
  await client.records.search('census')
  await signal(side.instance.url, client, docs[0] as string, 3)
}

/**
 * The reads of a phase on `side`, once both sides wrote: each member reads two profiles of its own
 * side (hits), one that only the other side holds (a miss here, found by federation), and every
 * third member a key nobody wrote (asked of the bridge and the peer, found nowhere).
 */
export function readsOf(side: Side, members: readonly Member[], others: readonly Member[]): Promise<void>[] {
  const profileKey = (identity: Identity | undefined) =>
    formatRecordKey({ kind: 'profile', owner: (identity as Identity).did })
  const profileOf = (m: Member | undefined) => profileKey(m?.client.identity)
  const nobody = identities(members.length, members.length * 31 + side.label.charCodeAt(0))
  return members.map(async (member, i) => {
    const records = member.client.records
    for (const j of [i + 1, i + 2]) {
      if (!(await records.get(profileOf(members[j % members.length]))))
        throw new Error(`a profile missing at ${side.label}`)
    }
    if (!(await records.get(profileOf(others[i % others.length])))) {
      throw new Error(`the other side's profile not found from ${side.label}`)
    }
    const unwritten = profileKey(nobody[i])
    if (i % 3 === 0 && (await records.get(unwritten)) !== null) throw new Error('a record nobody wrote was found')
  })
}
