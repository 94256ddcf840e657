/**
 * The page the React tests drive in Chromium: `@vivim/react` from its
 * sources, against the edge behind the server of the page. The document, topic and
 * record key come from the query string.
 */
import { VivimClient } from '@vivim/client'
import { generateIdentity } from '@vivim/shared'
import { createElement as h, StrictMode, useEffect, useState } from 'react'
import { createRoot } from 'react-dom/client'
import {
  useDoc,
  useDocData,
  useOthers,
  usePresence,
  useRecord,
  useSyncState,
  useTopic,
  VivimProvider,
} from '../src/index.ts'

const params = new URLSearchParams(location.search)
const docId = params.get('doc') as string
const topic = params.get('topic') as string
const recordKey = params.get('record') as string
const client = new VivimClient({ edge: location.origin, identity: generateIdentity(), token: null })

type Presence = { name: string }

function Room() {
  const doc = useDoc(docId)
  const note = useDocData(docId, (d) => (d.getMap('note').get('text') as string | undefined) ?? '')
  const state = useSyncState(docId)
  const [me, setMe] = usePresence<Presence>(docId)
  const others = useOthers<Presence>(docId)
  const [heard, setHeard] = useState<string[]>([])
  const { messages, publish } = useTopic(topic, (m) => setHeard((before) => [...before, m.text()]), { cursor: 0 })
  const { record, loading, refresh } = useRecord(recordKey)
  useEffect(() => setMe({ name: 'browser' }), [setMe])
  return h(
    'main',
    null,
    h('p', { id: 'state', 'data-state': state }, state),
    h('p', { id: 'note' }, note),
    h('p', { id: 'me' }, me?.name ?? ''),
    h('ul', { id: 'others' }, ...others.map((o) => h('li', { key: o.clientId }, o.presence.name))),
    h('ul', { id: 'messages' }, ...messages.map((m) => h('li', { key: m.id }, m.text()))),
    h('p', { id: 'heard' }, heard.join(',')),
    h('p', { id: 'record', 'data-loading': String(loading) }, record ? new TextDecoder().decode(record.value) : 'none'),
    h('button', { type: 'button', id: 'write', onClick: () => doc.getMap('note').set('text', 'from react') }, 'write'),
    h('button', { type: 'button', id: 'publish', onClick: () => void publish('hello node') }, 'publish'),
    h('button', { type: 'button', id: 'refresh', onClick: () => void refresh() }, 'refresh'),
  )
}

function App() {
  const [open, setOpen] = useState(true)
  return h(
    VivimProvider,
    { client },
    h('button', { type: 'button', id: 'toggle', onClick: () => setOpen(!open) }, open ? 'leave' : 'join'),
    open ? h(Room) : null,
  )
}

createRoot(document.getElementById('root') as HTMLElement).render(h(StrictMode, null, h(App)))
