/**
 * What a bridge with a data directory keeps of its topics in the datastore,
 * so a crash loses nothing it had taken on:
 *
 * - per topic, the edge cursor it has handled (every message up to it was
 *   handed to Gossipsub for a subscribed peer, `mesh-outlet.ts`), under
 *   `/vivim/bridge/topic-cursor/<topic>`; a start resumes the topic after it;
 * - the messages taken from Gossipsub for the edge whose `ok` the room has
 *   not sent yet (`edge-topic.ts`), under
 *   `/vivim/bridge/edge-outbox/<topic>/<sequence>`; a start sends them again.
 *
 * Cursors are not written per message: at most one batch per
 * `WRITE_EVERY_MS` for all topics, and what it writes is the cursor handled
 * at the write before, so a message's bytes have had a whole interval to
 * leave the process before the stored cursor passes it (Gossipsub has no
 * acknowledgement to wait for). A crash therefore replays what was handled
 * in the last two intervals, plus whatever was waiting for a mesh peer;
 * Gossipsub peers and the edge drop the copies by message id. A clean stop
 * writes the cursor handled last, after libp2p has closed its connections.
 *
 * An outbox entry is one datastore put when the message arrives from
 * Gossipsub and one delete at the edge's `ok`. Without a data directory
 * the journal keeps nothing and a start begins live, as a new bridge does.
 *
 * @example
 * ```ts
 * const journal = await TopicJournal.open(storage.persistent ? storage.datastore : null)
 * journal.cursor('public:news:today') // where the last run got to, or null
 * journal.handled('public:news:today', 41)
 * await journal.close()
 * ```
 */
import { decodeEnvelope, encodeEnvelope, type TopicEnvelope } from '@vivim/shared'
import { type Datastore, Key } from 'interface-datastore'
import { type Logger, silentLogger } from './log.ts'

const CURSORS = '/vivim/bridge/topic-cursor/'
const OUTBOX = '/vivim/bridge/edge-outbox/'
/** How often handled cursors are written, ms: the same as the edge topic's acknowledgements. */
const WRITE_EVERY_MS = 50

/** A message on its way to an edge room, by its place in the journal. */
export interface OutboxEntry {
  readonly seq: number
  readonly envelope: TopicEnvelope
}

const cursorKey = (topic: string) => new Key(`${CURSORS}${topic}`)
const outboxKey = (topic: string, seq: number) => new Key(`${OUTBOX}${topic}/${String(seq).padStart(16, '0')}`)
const bytesOf = (n: number) => new TextEncoder().encode(String(n))

/** Per topic, the handled edge cursor and the messages waiting for the edge's `ok`, in the datastore. */
export class TopicJournal {
  private readonly datastore: Datastore | null
  private readonly log: Logger
  private readonly stored = new Map<string, number>()
  private readonly outboxes = new Map<string, OutboxEntry[]>()
  /** The latest cursor handled per topic, what it was at the last write, and what the datastore holds. */
  private readonly latest = new Map<string, number>()
  private readonly previous = new Map<string, number>()
  private readonly written = new Map<string, number>()
  private readonly writes = new Set<Promise<void>>()
  /** Outbox puts not yet done, so a delete never overtakes the put it undoes. */
  private readonly puts = new Map<number, Promise<void>>()
  /** Outbox entries on disk, by sequence. */
  private readonly onDisk = new Set<number>()
  private nextSeq = 1
  private timer: NodeJS.Timeout | null = null

  private constructor(datastore: Datastore | null, log: Logger) {
    this.datastore = datastore
    this.log = log
  }

  /** Reads what the last run left; `null` keeps nothing (no data directory). */
  static async open(datastore: Datastore | null, log: Logger = silentLogger): Promise<TopicJournal> {
    const journal = new TopicJournal(datastore, log)
    if (datastore === null) return journal
    for await (const { key, value } of datastore.query({ prefix: CURSORS })) {
      const cursor = Number(new TextDecoder().decode(value))
      if (Number.isSafeInteger(cursor) && cursor >= 0) journal.stored.set(key.toString().slice(CURSORS.length), cursor)
    }
    for (const [topic, cursor] of journal.stored) journal.written.set(topic, cursor)
    for await (const { key, value } of datastore.query({ prefix: OUTBOX })) {
      const [topic, seqText] = key.toString().slice(OUTBOX.length).split('/') as [string, string]
      const seq = Number(seqText)
      let envelope: TopicEnvelope
      try {
        envelope = decodeEnvelope(value)
      } catch {
        await datastore.delete(key)
        continue
      }
      journal.outboxOf(topic).push({ seq, envelope })
      journal.onDisk.add(seq)
      journal.nextSeq = Math.max(journal.nextSeq, seq + 1)
    }
    for (const entries of journal.outboxes.values()) entries.sort((a, b) => a.seq - b.seq)
    return journal
  }

  /** Topics the last run handled messages of. */
  topics(): string[] {
    return [...new Set([...this.stored.keys(), ...this.outboxes.keys()])]
  }

  /** The cursor the last run had handled on `topic`, or null (start live). */
  cursor(topic: string): number | null {
    return this.stored.get(topic) ?? null
  }

  /** Every message of `topic` up to `cursor` is handled; written with the next batch but one. */
  handled(topic: string, cursor: number): void {
    if (this.datastore === null) return
    this.latest.set(topic, cursor)
    this.schedule()
  }

  /** Outbox entries written and not yet deleted: messages that would be sent again after a crash. */
  get journaled(): number {
    return this.onDisk.size
  }

  /** The messages of `topic` the last run took from the mesh and the edge never acknowledged, oldest first. */
  outbox(topic: string): readonly OutboxEntry[] {
    return this.outboxes.get(topic) ?? []
  }

  /** Journals a message for `topic`'s edge room; its sequence, for `forget`. */
  keep(topic: string, envelope: TopicEnvelope): number {
    const seq = this.nextSeq++
    if (this.datastore === null) return seq
    const written = Promise.resolve(this.datastore.put(outboxKey(topic, seq), encodeEnvelope(envelope)))
    const put = this.track(written.then(() => this.onDisk.add(seq)))
    this.puts.set(seq, put)
    void put.finally(() => this.puts.delete(seq))
    return seq
  }

  /** The edge acknowledged (or the bridge gave up on) the message journaled as `seq`. */
  forget(topic: string, seq: number): void {
    const datastore = this.datastore
    if (datastore === null) return
    const put = this.puts.get(seq) ?? Promise.resolve()
    this.track(put.then(() => datastore.delete(outboxKey(topic, seq))).then(() => this.onDisk.delete(seq)))
  }

  /** Writes the cursors handled last and waits for every write. */
  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    this.write([...this.latest])
    while (this.writes.size > 0) await Promise.all(this.writes)
  }

  private outboxOf(topic: string): OutboxEntry[] {
    let entries = this.outboxes.get(topic)
    if (!entries) {
      entries = []
      this.outboxes.set(topic, entries)
    }
    return entries
  }

  private schedule(): void {
    if (this.timer !== null) return
    this.timer = setTimeout(() => this.tick(), WRITE_EVERY_MS)
    this.timer.unref()
  }

  /** Writes, per topic, the cursor handled as of the previous tick. */
  private tick(): void {
    this.timer = null
    const safe: [string, number][] = []
    let moving = false
    for (const [topic, cursor] of this.latest) {
      const before = this.previous.get(topic)
      this.previous.set(topic, cursor)
      if (before !== undefined) safe.push([topic, before])
      if (cursor !== before) moving = true
    }
    this.write(safe)
    if (moving) this.schedule()
  }

  private write(cursors: [string, number][]): void {
    const changed = cursors.filter(([topic, cursor]) => this.written.get(topic) !== cursor)
    if (this.datastore === null || changed.length === 0) return
    const batch = this.datastore.batch()
    for (const [topic, cursor] of changed) {
      batch.put(cursorKey(topic), bytesOf(cursor))
      this.written.set(topic, cursor)
    }
    this.track(Promise.resolve(batch.commit()))
  }

  private track(write: Promise<unknown>): Promise<void> {
    const done: Promise<void> = write.then(
      () => {},
      (error: Error) => this.log.warn('topic journal write failed', { error: error.message }),
    )
    this.writes.add(done)
    void done.finally(() => this.writes.delete(done))
    return done
  }
}
