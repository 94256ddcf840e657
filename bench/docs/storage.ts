/**
 * Stored bytes before and after compaction: what a document room keeps in
 * SQLite after a long history, against what it was sent. Two histories on
 * the relay under `wrangler dev`, each from one client making one change per
 * transaction and sending them merged `--merge` (100) to a frame, with a
 * round trip after each frame (a socket may send 500 frames a second):
 *
 *   appends     100,000 short entries pushed to a Y.Array (the document grows
 *               with its history: compaction can only merge)
 *   overwrites  10,000 writes of 1 KB values over 10 keys of a Y.Map (the
 *               document stays small: compaction drops what was overwritten)
 *
 * After each, the edge is stopped and the room's SQLite file read with
 * `node:sqlite`: snapshot bytes, log rows and bytes. "Sent" is the sum of
 * the update bytes the client sent: what an uncompacted log would hold.
 *
 *   node_modules/.bin/node bench/docs/storage.ts [--merge 100]
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import * as Y from 'yjs'
import { startSnapshotEdge } from '../lib/edge-process.ts'
import { int, parseOptions } from '../lib/options.ts'
import { bytes, count, markdownRow, markdownTable } from '../lib/report-table.ts'
import { guardRun } from '../lib/run-environment.ts'
import { WRANGLER_QUIET_ENV } from '../lib/wrangler-env.ts'
import { DocClient } from './doc-client.ts'
import { framing } from './wire-dialects.ts'

interface History {
  name: string
  updates: number
  write: (doc: Y.Doc, n: number) => void
}

const PADDING = 'x'.repeat(1000)
const HISTORIES: History[] = [
  { name: 'appends', updates: 100_000, write: (doc, n) => doc.getArray('log').push([`entry ${n}`]) },
  {
    name: 'overwrites',
    updates: 10_000,
    write: (doc, n) => doc.getMap('settings').set(`key${n % 10}`, `${n}:${PADDING}`),
  },
]

const { merge } = parseOptions('node bench/docs/storage.ts [flags]   (npm run bench:docs:storage -- [flags])', {
  merge: int(100, 1, 10_000, 'updates merged into one frame'),
})
guardRun()

function storedBytes(persistTo: string): { snapshot: number; logRows: number; logBytes: number } {
  const dir = join(persistTo, 'v3', 'do', 'vivim-edge-DocRoom')
  const total = { snapshot: 0, logRows: 0, logBytes: 0 }
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.sqlite'))) {
    const db = new DatabaseSync(join(dir, file), { readOnly: true })
    const has = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'doc_updates'").get()
    if (has) {
      const log = db.prepare('SELECT COUNT(*) AS n, COALESCE(SUM(length(data)), 0) AS b FROM doc_updates').get() as {
        n: number
        b: number
      }
      const snap = db.prepare('SELECT COALESCE(SUM(length(data)), 0) AS b FROM doc_snapshot').get() as { b: number }
      total.snapshot += snap.b
      total.logRows += log.n
      total.logBytes += log.b
    }
    db.close()
  }
  return total
}

const header = ['history', 'updates', 'sent', 'encoded document', 'stored: snapshot', 'stored: log (rows)']
console.log(markdownTable([...header, 'stored vs sent'], []))
for (const history of HISTORIES) {
  // The state directory is kept past the edge's stop: the room's SQLite file is read from it then.
  const persistTo = mkdtempSync(join(tmpdir(), 'vivim-bench-storage-'))
  const edge = await startSnapshotEdge({ persistTo, inspectorPort: 'free', env: WRANGLER_QUIET_ENV })
  const docId = `storage-${history.name}`
  const url = `ws://127.0.0.1:${edge.port}/v1/docs/${docId}`
  const client = await DocClient.connect(url, framing('yjs', docId), 30_000, { manualSend: true })
  let sent = 0
  const pending: Uint8Array[] = []
  client.doc.on('update', (update: Uint8Array, origin: unknown) => {
    if (origin === null) pending.push(update)
  })
  for (let n = 0; n < history.updates; n++) {
    history.write(client.doc, n)
    if (pending.length >= merge || n === history.updates - 1) {
      const frame = Y.mergeUpdates(pending.splice(0))
      sent += frame.length
      client.sendUpdate(frame)
      await client.roundTrip(60_000)
    }
  }
  const encoded = Y.encodeStateAsUpdate(client.doc).length
  await client.close()
  await edge.stop()
  const stored = storedBytes(persistTo)
  rmSync(persistTo, { recursive: true, force: true })
  const total = stored.snapshot + stored.logBytes
  const cells = [history.name, count(history.updates), bytes(sent), bytes(encoded), bytes(stored.snapshot)]
  cells.push(`${bytes(stored.logBytes)} (${count(stored.logRows)})`, `${((100 * total) / sent).toFixed(1)}%`)
  console.log(markdownRow(cells))
}
