/**
 * Who owns a resource, when its name says so: records and provider lists by
 * the owner in the record key, profile and settings documents and `user:`
 * topics by the DID in their id. A circle's or a conversation's topics
 * (`circle:<channel>:X`, `conversation:<channel>:X`) belong to whoever owns
 * the document `circle:X` or `conversation:X` (`governingDoc`), so members
 * granted the circle reach its channels and nobody can claim them apart.
 * Other documents and public topics are owned by their creator, which only
 * their room knows (`null` here).
 */
import { isDid, parseRecordKey } from '@vivim/shared'

export function ownerFromName(resource: string): string | null {
  const [kind, ...rest] = resource.split(':')
  const name = rest.join(':')
  try {
    if (kind === 'record' || kind === 'providers') return parseRecordKey(name).owner
  } catch {
    return null
  }
  for (const prefix of ['doc:profile:', 'doc:settings:']) {
    if (resource.startsWith(prefix)) return didOrNull(resource.slice(prefix.length))
  }
  const topic = /^topic:user:[a-z][a-z0-9-]*:(.+)$/.exec(resource)
  return topic ? didOrNull(topic[1] as string) : null
}

/**
 * The document id whose owner owns `resource`, for resources that follow a
 * document: `topic:circle:<channel>:X` → `circle:X`,
 * `topic:conversation:<channel>:X` → `conversation:X`; null otherwise.
 */
export function governingDoc(resource: string): string | null {
  const match = /^topic:(circle|conversation):[a-z][a-z0-9-]*:(.+)$/.exec(resource)
  return match ? `${match[1]}:${match[2]}` : null
}

function didOrNull(value: string): string | null {
  return isDid(value) ? value : null
}
