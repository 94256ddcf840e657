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
  useVersions,
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
  const [preview, setPreview] = useState('')
  const { messages, publish } = useTopic(topic, (m) => setHeard((before) => [...before, m.text()]), { cursor: 0 })
  const { record, loading, refresh } = useRecord(recordKey)
  const history = useVersions(docId)
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
    h('ul', { id: 'versions' }, ...history.versions.map((v) => h('li', { key: v.id }, v.name ?? v.reason))),
    h('button', { type: 'button', id: 'save-version', onClick: () => void history.save('checkpoint') }, 'save'),
    h(
      'button',
      {
        type: 'button',
        id: 'restore-checkpoint',
        onClick: () => {
          const checkpoint = history.versions.find((v) => v.name === 'checkpoint')
          if (checkpoint) void history.restore(checkpoint.id)
        },
      },
      'restore',
    ),
    h('p', { id: 'preview' }, preview),
    h(
      'button',
      {
        type: 'button',
        id: 'preview-checkpoint',
        onClick: () => {
          const checkpoint = history.versions.find((v) => v.name === 'checkpoint')
          if (checkpoint)
            void history.preview(checkpoint.id).then((d) => setPreview(String(d.getMap('note').get('text') ?? '')))
        },
      },
      'preview',
    ),
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
