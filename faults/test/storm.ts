/**
 * A write storm against an edge, and what it was told was kept: stock
 * `y-websocket` writers and an SDK writer on some documents, each watched
 * by a stock observer (an update is acknowledged once another client holds
 * it), SDK publishers on some topics (acknowledged by their `ok`), and
 * record writes (acknowledged by a 2xx). `check` then reads everything back
 * from an edge started again on the same storage.
 *
 * @example
 * ```ts
 * const storm = startStorm(edge.url, { docs: 3, topics: 2, seed: 7 })
 * await edge.kill(); storm.stop()
 * const lost = await storm.check(restarted.url) // [] when nothing acknowledged was lost
 * ```
 */
import { createRecord, formatRecordKey, generateIdentity } from '@vivim/shared'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { VivimClient } from '../../client/src/vivim-client.ts'
import { seeded } from '../../scripts/seeded-random.ts'

export interface StormInit {
  readonly docs: number
  readonly topics: number
  /** Seeds the writers' pace, so a failure can be run again. */
  readonly seed: number
}

/** What the storm's clients were told is kept. */
export interface Acknowledged {
  /** Per document id, the map keys an observer saw. */
  readonly docs: Map<string, Set<string>>
  /** Per topic, the message ids the edge answered `ok` for. */
  readonly topics: Map<string, Set<string>>
  /** Record keys and the value each put was answered 2xx for (the last one). */
  readonly records: Map<string, string>
}

export interface Storm {
  readonly acknowledged: Acknowledged
  /** The last write that failed, if any (for a failure's message). */
  lastError(): string | null
  /** Stops every client (they would otherwise reconnect to the restarted edge). */
  stop(): void
  /** Everything acknowledged that `edge` does not have, as readable lines. */
  check(edge: string): Promise<string[]>
}

/** How long a topic's replay may take before what has not arrived counts as lost (a hang guard). */
const REPLAY_GUARD_MS = 20_000

const wsBase = (edge: string) => `${edge.replace(/^http/, 'ws')}/v1/docs`

function stockProvider(edge: string, docId: string, doc = new Y.Doc()): WebsocketProvider {
  return new WebsocketProvider(wsBase(edge), docId, doc, {
    WebSocketPolyfill: WebSocket as never,
    maxBackoffTime: 500,
    // Providers of one room in one process would otherwise pass updates to each other directly, not through the edge.
    disableBc: true,
  })
}

export function startStorm(edge: string, init: StormInit): Storm {
  const random = seeded(init.seed)
  const acknowledged: Acknowledged = { docs: new Map(), topics: new Map(), records: new Map() }
  const stops: (() => void)[] = []
  let running = true
  let lastError: string | null = null
  const loop = (body: () => Promise<void> | void) => {
    const step = async () => {
      if (!running) return
      try {
        await body()
      } catch (error) {
        // A write that failed was not acknowledged; the storm goes on until stopped.
        lastError = (error as Error).message
      }
      if (running) setTimeout(step, 2 + Math.floor(random() * 8))
    }
    void step()
  }
  const identity = generateIdentity()
  const client = new VivimClient({ edge, identity })
  for (let d = 0; d < init.docs; d++) {
    const docId = `storm-${init.seed}-doc-${d}`
    const seen = new Set<string>()
    acknowledged.docs.set(docId, seen)
    const observer = stockProvider(edge, docId)
    observer.doc.getMap('m').observe((event) => {
      for (const key of event.keysChanged) seen.add(key)
    })
    stops.push(() => observer.destroy())
    for (let w = 0; w < 2; w++) {
      const writer = stockProvider(edge, docId)
      let n = 0
      loop(() => {
        if (writer.wsconnected) writer.doc.getMap('m').set(`stock-${w}-${n++}`, n)
      })
      stops.push(() => writer.destroy())
    }
  }
  // The SDK writes documents of its own: its identity owns what it creates, which anonymous stock clients may not change.
  for (let d = 0; d < init.docs; d++) {
    const docId = `storm-${init.seed}-sdk-${d}`
    const seen = new Set<string>()
    acknowledged.docs.set(docId, seen)
    const observer = client.document(docId)
    observer.doc.getMap('m').observe((event) => {
      for (const key of event.keysChanged) seen.add(key)
    })
    const writer = client.document(docId)
    let n = 0
    loop(() => {
      writer.doc.getMap('m').set(`sdk-${n++}`, n)
    })
    stops.push(
      () => observer.destroy(),
      () => writer.destroy(),
    )
  }
  for (let t = 0; t < init.topics; t++) {
    const topic = `public:storm:${init.seed}-${t}`
    const ids = new Set<string>()
    acknowledged.topics.set(topic, ids)
    // Subscribing creates the topic (its creator owns it); the publishes follow once it exists.
    stops.push(client.subscribe(topic, () => {}))
    let n = 0
    loop(async () => {
      ids.add((await client.publish(topic, `m${n++}`)).id)
    })
  }
  const author = generateIdentity()
  let r = 0
  loop(async () => {
    const key = formatRecordKey({ kind: 'post', owner: author.did, name: `r${r % 20}` })
    const value = `v${r++}`
    await client.records.put(createRecord(author, { key, value: new TextEncoder().encode(value), public: true }))
    acknowledged.records.set(key, value)
  })
  return {
    acknowledged,
    lastError: () => lastError,
    stop() {
      running = false
      for (const stop of stops) stop()
    },
    // Read back as the storm's own identity: it created, so owns, every topic and SDK document.
    check: (at) => check(at, new VivimClient({ edge: at, identity }), acknowledged),
  }
}

async function check(edge: string, client: VivimClient, acknowledged: Acknowledged): Promise<string[]> {
  const lost: string[] = []
  for (const [docId, keys] of acknowledged.docs) {
    const reader = stockProvider(edge, docId)
    await new Promise<void>((resolve) => reader.once('sync', () => resolve()))
    const map = reader.doc.getMap('m')
    for (const key of keys) if (!map.has(key)) lost.push(`${docId}: ${key}`)
    reader.destroy()
  }
  for (const [topic, ids] of acknowledged.topics) {
    const kept = new Set<string>()
    let refused = ''
    const stop = client.subscribe(topic, (m) => kept.add(m.id), { cursor: 0, onError: (e) => (refused = e.message) })
    // The replay has no end marker in the SDK: wait for every id, up to a hang guard, then list what is missing.
    const deadline = Date.now() + REPLAY_GUARD_MS
    while ([...ids].some((id) => !kept.has(id)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    stop()
    for (const id of ids)
      if (!kept.has(id))
        lost.push(`${topic}: ${id} (${kept.size} kept of ${ids.size} acknowledged${refused && `; ${refused}`})`)
  }
  for (const [key, value] of acknowledged.records) {
    const record = await client.records.get(key)
    const kept = record === null ? null : new TextDecoder().decode(record.value)
    // A later put may have won; only an older value than the last acknowledged one is a loss.
    if (kept === null || Number(kept.slice(1)) < Number(value.slice(1))) lost.push(`${key}: ${value} (kept ${kept})`)
  }
  return lost
}
