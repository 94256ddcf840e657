// A plain Node ESM script that uses the installed @vivim/client: writes to the document and the topic,
// then waits for the React app's reply on both. Usage: node peer.mjs <edge> <docId> <topic>
import { VivimClient } from '@vivim/client'
import { generateIdentity } from '@vivim/shared'

const [edge, docId, topic] = process.argv.slice(2)
const client = new VivimClient({ edge, identity: generateIdentity(), token: null })
const provider = client.document(docId)
const shared = provider.doc.getMap('shared')
const heard = []
let check = () => {}
const replied = new Promise((resolve) => {
  check = () => shared.get('react') === 'from react' && heard.includes('hello from react') && resolve()
})
shared.observe(() => check())
const stop = client.subscribe(
  topic,
  (message) => {
    heard.push(message.text())
    check()
  },
  { cursor: 0 },
)

shared.set('node', 'from node')
await client.publish(topic, 'hello from node')
console.log('wrote')
await replied
console.log('saw the reply')
stop()
provider.destroy()
process.exit(0)
