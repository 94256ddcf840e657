/**
 * The soak's records: signed writes at a steady rate over a rotating set of
 * keys (20 authors × 10 names, overwritten in turn, so the edge's storage
 * holds a fixed number of records however long the run), and reads of keys
 * already written. Each write and read is timed; a read that finds nothing
 * for a key written before counts as an error.
 */
import { createRecord, formatRecordKey, generateIdentity, type Identity } from '@vivim/shared'
import { VivimClient } from '../../client/src/vivim-client.ts'
import type { Meter } from './meter.ts'

const AUTHORS = 20
const NAMES = 10

/** Writes and reads records on one edge; `run.ts` paces `write` and `read`. */
export class RecordLoad {
  private readonly client: VivimClient
  private readonly authors: Identity[] = Array.from({ length: AUTHORS }, () => generateIdentity())
  private readonly written: string[] = []
  private readonly meter: Meter
  private writes = 0

  /** `edge`: `http://host:port`. */
  constructor(edge: string, meter: Meter) {
    this.client = new VivimClient({ edge })
    this.meter = meter
  }

  /** Writes the next key of the rotation: a small public record holding the time. */
  async write(): Promise<void> {
    const n = this.writes++
    const author = this.authors[n % AUTHORS] as Identity
    const name = `soak-${Math.floor(n / AUTHORS) % NAMES}`
    const key = formatRecordKey({ kind: 'post', owner: author.did, name })
    const value = new TextEncoder().encode(JSON.stringify({ at: Date.now(), n }))
    const started = performance.now()
    await this.client.records.put(createRecord(author, { key, value, public: true }))
    this.meter.latency('recordPut', performance.now() - started)
    this.meter.count('record writes')
    if (n < AUTHORS * NAMES) this.written.push(key)
  }

  /** Reads a random key written before; nothing there is an error. */
  async read(): Promise<void> {
    const key = this.written[Math.floor(Math.random() * this.written.length)]
    if (key === undefined) return this.meter.count('record reads skipped')
    const started = performance.now()
    const record = await this.client.records.get(key)
    this.meter.latency('recordGet', performance.now() - started)
    this.meter.count('record reads')
    if (record === null) this.meter.error('record read', new Error('missing'))
  }
}
