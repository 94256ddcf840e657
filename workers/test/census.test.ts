/**
 * The census (`workers/census.ts`): with `VIVIM_CENSUS = "on"` (as in these
 * tests) each Durable Object instance's requests are counted under its
 * binding and name, whether they come through a stub or from the runtime
 * (a socket's frames); `/v1/dev/census` lists them and forgets them.
 */
import { exports } from 'cloudflare:workers'
import { encodeSyncUpdate } from '@vivim/shared'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { censusOn, withCensus } from '../census.ts'
import { DocPeer } from './doc-peer.ts'
import { EDGE, openSocket } from './socket-peer.ts'

interface Row {
  binding: string
  name: string
  requests: number
}

async function census(): Promise<Row[]> {
  const response = await exports.default.fetch(new Request(`${EDGE}/v1/dev/census`))
  expect(response.status).toBe(200)
  return ((await response.json()) as { objects: Row[] }).objects
}

const requestsOf = (rows: Row[], binding: string, name: string) =>
  rows.find((r) => r.binding === binding && r.name === name)?.requests ?? 0

describe('the census', () => {
  it('counts a document room’s connects and frames under the document’s name, apart from another document', async () => {
    expect((await exports.default.fetch(new Request(`${EDGE}/v1/dev/census`, { method: 'DELETE' }))).status).toBe(204)
    const one = await DocPeer.connect('census-one')
    // A socket that sends nothing: its room counts the connect alone.
    const two = await openSocket('/v1/docs/census-two')
    const start = await census()
    const before = requestsOf(start, 'DOC_ROOM', 'census-one')
    expect(before).toBeGreaterThanOrEqual(1)
    const doc = new Y.Doc()
    doc.getText('t').insert(0, 'x')
    for (let i = 0; i < 3; i++) one.send(encodeSyncUpdate(Y.encodeStateAsUpdate(doc)))
    await one.until(() => one.doc.getText('t').toString() === 'x')
    const rows = await census()
    // The connect through the stub, then at least the three frames the runtime delivered.
    expect(requestsOf(rows, 'DOC_ROOM', 'census-one')).toBeGreaterThanOrEqual(before + 3)
    expect(requestsOf(rows, 'DOC_ROOM', 'census-two')).toBe(1)
    one.close()
    two.close(1000, 'done')
  })

  it('is off unless the deployment turns it on: then `env` is passed on as it is', async () => {
    const env = { VIVIM_CENSUS: 'off', DOC_ROOM: {} }
    expect(censusOn(env)).toBe(false)
    expect(withCensus(env)).toBe(env)
    expect(censusOn({ VIVIM_CENSUS: 'on' })).toBe(true)
  })
})
