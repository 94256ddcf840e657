/**
 * Who owns a resource, when its name says so: records and provider lists by
 * the owner in the record key, profile and settings documents and `user:`
 * topics by the DID in their id. Other documents and topics (circles,
 * conversations, public topics) are owned by their creator, which only their
 * room knows (`null` here).
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

function didOrNull(value: string): string | null {
  return isDid(value) ? value : null
}
