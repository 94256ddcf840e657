/**
 * Topic names: `<namespace>:<channel>:<id>`, for example
 * `user:updates:<did>` or `circle:messages:<circleId>`.
 *
 *   namespace  user | circle | conversation | public
 *   channel    a lowercase word: updates, messages, events, …
 *   id         1-200 characters of A-Z a-z 0-9 . _ ~ : @ + -
 *
 * The namespace says whose the topic is (a user, a circle, a conversation,
 * or nobody in particular), which is what access decisions key on.
 *
 * @example
 * ```ts
 * import { parseTopic } from '@vivim/shared'
 * parseTopic('circle:messages:book-club') // { namespace: 'circle', channel: 'messages', id: 'book-club' }
 * ```
 */
import { utf8ToBytes } from '@noble/hashes/utils.js'
import { ErrorCode, VivimError } from './errors.ts'
import { Limits } from './limits.ts'

/** The namespaces a topic name may start with. */
export const TopicNamespaces = ['user', 'circle', 'conversation', 'public'] as const
/** One of `TopicNamespaces`. */
export type TopicNamespace = (typeof TopicNamespaces)[number]

/** A topic name's parts: `<namespace>:<channel>:<id>`. */
export interface TopicName {
  readonly namespace: TopicNamespace
  readonly channel: string
  readonly id: string
}

const TOPIC = /^(user|circle|conversation|public):([a-z][a-z0-9-]{0,31}):([A-Za-z0-9._~:@+-]{1,200})$/

/** The parts of a topic name; throws `invalid_topic`. */
export function parseTopic(name: string): TopicName {
  if (utf8ToBytes(name).length > Limits.maxTopicNameBytes) {
    throw new VivimError(ErrorCode.InvalidTopic, `a topic name is at most ${Limits.maxTopicNameBytes} bytes`)
  }
  const match = TOPIC.exec(name)
  if (!match) {
    throw new VivimError(
      ErrorCode.InvalidTopic,
      `a topic is <${TopicNamespaces.join('|')}>:<channel>:<id>, for example circle:messages:book-club`,
    )
  }
  return { namespace: match[1] as TopicNamespace, channel: match[2] as string, id: match[3] as string }
}

/** Whether a value is a valid topic name. */
export function isTopic(name: unknown): name is string {
  if (typeof name !== 'string') return false
  try {
    parseTopic(name)
    return true
  } catch {
    return false
  }
}
