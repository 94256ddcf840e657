/**
 * A topic: the messages that arrive while the component is mounted (or from
 * a cursor), and a function to publish.
 */
import type { TopicMessage } from '@vivim/client'
import { useCallback, useEffect, useMemo, useRef, useSyncExternalStore } from 'react'
import { useClient } from './context.ts'

/**
 * Options of `useTopic`.
 *
 * @example
 * ```tsx
 * const { messages } = useTopic('public:chat:lobby', undefined, { cursor: 0, limit: 20 }) // the history too
 * ```
 */
export interface TopicOptions {
  /** Start from this cursor (0: all the history the edge holds); by default, from now. */
  cursor?: number
  /** How many of the latest messages `messages` keeps (default 100). */
  limit?: number
}

/**
 * What `useTopic` returns.
 *
 * @example
 * ```tsx
 * const { messages, publish }: TopicState = useTopic('public:chat:lobby')
 * await publish('hi')
 * ```
 */
export interface TopicState {
  /** The latest messages, oldest first, each verified against its author's signature. */
  readonly messages: readonly TopicMessage[]
  /** Signs `data` with the client's identity and publishes it; resolves once the edge stored it. */
  publish(data: Uint8Array | string): Promise<{ id: string; cursor: number; duplicate: boolean }>
}

/**
 * Subscribes to `topic` while mounted: returns the latest messages and
 * `publish`, and calls `onMessage` (when given) once for each message, in
 * order. After a reconnect it resumes where it left off.
 *
 * @example
 * ```tsx
 * const { messages, publish } = useTopic('public:chat:lobby', (m) => console.log(m.author, m.text()))
 * return <>
 *   <ul>{messages.map((m) => <li key={m.id}>{m.text()}</li>)}</ul>
 *   <button onClick={() => publish('hi')}>hi</button>
 * </>
 * ```
 */
export function useTopic(
  topic: string,
  onMessage?: (message: TopicMessage) => void,
  options: TopicOptions = {},
): TopicState {
  const client = useClient()
  const handler = useRef(onMessage)
  useEffect(() => {
    handler.current = onMessage
  })
  const { cursor, limit = 100 } = options
  const store = useMemo(() => {
    let messages: readonly TopicMessage[] = []
    let last = cursor
    return {
      subscribe(onChange: () => void): () => void {
        return client.subscribe(
          topic,
          (message) => {
            if (last !== undefined && message.cursor <= last) return
            last = message.cursor
            messages = [...messages, message].slice(-limit)
            handler.current?.(message)
            onChange()
          },
          last === undefined ? {} : { cursor: last },
        )
      },
      get: () => messages,
    }
  }, [client, topic, cursor, limit])
  const messages = useSyncExternalStore(store.subscribe, store.get, store.get)
  const publish = useCallback((data: Uint8Array | string) => client.publish(topic, data), [client, topic])
  return { messages, publish }
}
