/**
 * `@vivim/react`: React bindings for `@vivim/client`. Wrap the app in a
 * `VivimProvider` with a client, then read documents, their sync state,
 * presence, topics and records with hooks built on `useSyncExternalStore`.
 * Components that name the same document share one connection, closed when
 * the last of them unmounts.
 *
 * @example
 * ```tsx
 * import { createRoot } from 'react-dom/client'
 * import { VivimClient } from '@vivim/client'
 * import { generateIdentity } from '@vivim/shared'
 * import { useDocData, useDoc, useOthers, usePresence, useSyncState, useTopic, VivimProvider } from '@vivim/react'
 *
 * // Development mode (npm start): no token needed.
 * const client = new VivimClient({ edge: 'http://127.0.0.1:8787', identity: generateIdentity(), token: null })
 *
 * function Note() {
 *   const doc = useDoc('notes:n1')
 *   const text = useDocData('notes:n1', (d) => d.getMap('note').get('text') as string | undefined)
 *   const state = useSyncState('notes:n1') // 'connecting', 'syncing', 'synced', …
 *   const [me, setMe] = usePresence<{ name: string }>('notes:n1')
 *   const others = useOthers<{ name: string }>('notes:n1')
 *   const { messages, publish } = useTopic('public:chat:c1')
 *   return (
 *     <div>
 *       <p>{state}, with {others.map((o) => o.presence.name).join(', ')}</p>
 *       <input value={text ?? ''} onChange={(e) => doc.getMap('note').set('text', e.target.value)} />
 *       <button onClick={() => setMe({ name: 'Alice' })}>I am {me?.name ?? 'nobody'}</button>
 *       <button onClick={() => publish('hello')}>say hello</button>
 *       <ul>{messages.map((m) => <li key={m.id}>{m.text()}</li>)}</ul>
 *     </div>
 *   )
 * }
 *
 * createRoot(document.getElementById('root')!).render(
 *   <VivimProvider client={client}><Note /></VivimProvider>,
 * )
 * ```
 */
export { useClient, VivimProvider, type VivimProviderProps } from './context.ts'
export { useDoc, useDocData, useDocProvider } from './doc.ts'
export { type Other, useOthers, usePresence } from './presence.ts'
export { type RecordState, useRecord } from './record.ts'
export { useSyncState } from './sync-state.ts'
export { type TopicOptions, type TopicState, useTopic } from './topic.ts'
export { useVersions, type VersionsState } from './versions.ts'
