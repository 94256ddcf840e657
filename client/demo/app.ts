/**
 * The demo: two people chat in a conversation document through the local
 * edge and see each other's presence. Everything goes through the SDK:
 * the identity lives in IndexedDB, the conversation is kept offline in
 * IndexedDB too, and the sync state is shown as it changes.
 */
import { Conversation, type ConversationMessage } from '@vivim/shared'
import * as Y from 'yjs'
import { IndexedDbKeyStore } from '../src/indexeddb-key-store.ts'
import { loadOrCreateIdentity } from '../src/key-store.ts'
import type { SyncState } from '../src/sync-state.ts'
import { VivimClient } from '../src/vivim-client.ts'

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T

async function main(): Promise<void> {
  const me = await loadOrCreateIdentity(new IndexedDbKeyStore('demo'))
  const room = location.hash.slice(1) || 'lobby'
  const name = $<HTMLInputElement>('name')
  name.value = localStorage.getItem('vivim-demo-name') ?? `guest-${me.did.slice(-4)}`
  $('who').textContent = me.did

  // Development mode admits anyone, so the demo needs no capability token.
  const client = new VivimClient({ edge: location.origin, identity: me, token: null })
  const doc = new Y.Doc()
  const provider = await client.offlineDocument(`conversation:${room}`, doc, { connect: false })
  const states: SyncState[] = [provider.state.value]
  const showState = (state: SyncState) => {
    $('state').textContent = state
    $('state').dataset.state = state
  }
  showState(provider.state.value)
  provider.state.on((state) => {
    states.push(state)
    showState(state)
  })

  const renderMessages = () => {
    $('messages').replaceChildren(
      ...Conversation.messages(doc)
        .toArray()
        .map((m: ConversationMessage) => {
          const li = document.createElement('li')
          const who = document.createElement('b')
          who.textContent = m.author
          li.append(who, m.text)
          return li
        }),
    )
  }
  Conversation.messages(doc).observe(renderMessages)
  renderMessages()

  const setPresence = () => provider.awareness.setLocalState({ name: name.value })
  const renderPresence = () => {
    $('presence').replaceChildren(
      ...[...provider.awareness.getStates().values()].map((s) => {
        const span = document.createElement('span')
        span.textContent = String((s as { name?: string }).name ?? '?')
        return span
      }),
    )
  }
  provider.awareness.on('change', renderPresence)
  setPresence()
  name.addEventListener('change', () => {
    localStorage.setItem('vivim-demo-name', name.value)
    setPresence()
  })

  $<HTMLFormElement>('send').addEventListener('submit', (event) => {
    event.preventDefault()
    const text = $<HTMLInputElement>('text')
    if (!text.value.trim()) return
    Conversation.append(doc, { id: crypto.randomUUID(), author: name.value, text: text.value, ts: Date.now() })
    text.value = ''
  })

  Object.assign(window, { vivim: { provider, doc, states } })
  provider.connect()
}

void main()
