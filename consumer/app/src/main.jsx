// A React app that uses the installed @vivim/react: a document and a topic shared with peer.mjs.
import { VivimClient } from '@vivim/client'
import { useDoc, useDocData, useSyncState, useTopic, VivimProvider } from '@vivim/react'
import { generateIdentity } from '@vivim/shared'
import { createRoot } from 'react-dom/client'

const params = new URLSearchParams(location.search)
const docId = params.get('doc')
const topic = params.get('topic')
const client = new VivimClient({ edge: location.origin, identity: generateIdentity(), token: null })

function App() {
  const doc = useDoc(docId)
  const fromNode = useDocData(docId, (d) => d.getMap('shared').get('node') ?? '')
  const state = useSyncState(docId)
  const { messages, publish } = useTopic(topic, undefined, { cursor: 0 })
  const reply = () => {
    doc.getMap('shared').set('react', 'from react')
    void publish('hello from react')
  }
  return (
    <main>
      <p id="state" data-state={state}>
        {state}
      </p>
      <p id="from-node">{fromNode}</p>
      <ul id="messages">
        {messages.map((m) => (
          <li key={m.id}>{m.text()}</li>
        ))}
      </ul>
      <button id="reply" type="button" onClick={reply}>
        reply
      </button>
    </main>
  )
}

createRoot(document.getElementById('root')).render(
  <VivimProvider client={client}>
    <App />
  </VivimProvider>,
)
