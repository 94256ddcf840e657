/**
 * `HandoverJournal`, what a room still owes the edge's extensions (today
 * federation's outboxes): a document flush or a topic message that must
 * travel to peers is written to the room's SQLite by the same synchronous
 * turn that stores the flush or the message, so both land in one implicit
 * transaction and a crash between storing and handing over loses nothing.
 * The hand-over then runs; only once every extension holds it is the row
 * deleted. A failed hand-over stays, is retried from the room's alarm with
 * back-off (equal jitter, 1 s doubling to 5 min), and is retried again
 * after a restart, since the row outlives the process.
 *
 * The retry alarm is armed by the hand-over's first attempt, one storage
 * write after the row: a crash between the two leaves the row to the next
 * time the room starts (its constructor arms the alarm again).
 *
 * Rows exist only while an extension takes hand-overs here (`journals`):
 * an instance that does not federate writes none. The table holds at most
 * the hand-overs not yet delivered, so it grows only while a peer's outbox
 * cannot take them (the outboxes themselves are bounded and say so).
 *
 * @example
 * ```ts
 * const seq = journal.record('topicMessageStored', topic, envelopeBytes, origin) // same turn as the append
 * await journal.deliver(seq) // rejects if an extension failed; the alarm retries
 * ```
 */
import { backoffCap, jittered, logLine } from '@vivim/shared'

export type HandoverKind = 'docFlushed' | 'topicMessageStored'

/** One hand-over as stored: the resource's name, the bytes (an update or an envelope), where it came from. */
export interface Handover {
  readonly kind: HandoverKind
  readonly name: string | null
  readonly bytes: Uint8Array
  /** The instance the update or message came from, which is not sent it back. */
  readonly origin: string | null
  /** The DIDs whose writes a document flush holds (none for peers' and unsigned writes). */
  readonly writers?: readonly string[]
}

const RETRY = { initialMs: 1000, maxMs: 5 * 60_000, jitter: 'equal' as const }
/** A new row is left to its first attempt this long before the alarm may retry it. */
const FIRST_ATTEMPT_MS = 10_000

export class HandoverJournal {
  private readonly ctx: DurableObjectState
  private readonly run: (handover: Handover) => Promise<void>
  /** An alarm this journal knows is set (until it fires): a hand-over due later needs no storage call. */
  private armedAt: number | null = null

  /** `run` hands one over to every extension, rejecting if any failed. */
  constructor(ctx: DurableObjectState, run: (handover: Handover) => Promise<void>) {
    this.ctx = ctx
    this.run = run
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS handovers (seq INTEGER PRIMARY KEY AUTOINCREMENT,
      kind TEXT NOT NULL, name TEXT, bytes BLOB NOT NULL, origin TEXT, attempts INTEGER NOT NULL DEFAULT 0,
      due INTEGER NOT NULL DEFAULT 0, writers TEXT)`)
    // A journal made before hand-overs named their writers gets the column (once, not a failed ALTER per wake).
    const made = ctx.storage.sql
      .exec<{ sql: string }>(`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'handovers'`)
      .one().sql
    if (!made.includes('writers')) ctx.storage.sql.exec('ALTER TABLE handovers ADD COLUMN writers TEXT')
    // Hand-overs a crash interrupted wait for the alarm.
    if (this.pending > 0) void ctx.blockConcurrencyWhile(() => this.scheduleNext())
  }

  /** Writes a hand-over in the caller's turn (so in the same transaction as what it stores); its sequence number. */
  record(handover: Handover): number {
    const { kind, name, bytes, origin, writers } = handover
    return this.ctx.storage.sql
      .exec<{ seq: number }>(
        'INSERT INTO handovers (kind, name, bytes, origin, due, writers) VALUES (?, ?, ?, ?, ?, ?) RETURNING seq',
        kind,
        name,
        bytes,
        origin,
        Date.now() + FIRST_ATTEMPT_MS,
        writers && writers.length > 0 ? JSON.stringify(writers) : null,
      )
      .one().seq
  }

  /** Hands `seq` over now; deleted once every extension holds it, else retried later and the failure thrown. */
  async deliver(seq: number, handover: Handover): Promise<void> {
    try {
      await this.scheduleNext()
      await this.run(handover)
    } catch (error) {
      await this.failed(seq, error)
      throw error
    }
    this.ctx.storage.sql.exec('DELETE FROM handovers WHERE seq = ?', seq)
  }

  /** The alarm's part: hands over, oldest first, every row that is due; later ones wait for the next alarm. */
  async retry(now = Date.now()): Promise<void> {
    this.armedAt = null
    const rows = this.ctx.storage.sql
      .exec<{
        seq: number
        kind: HandoverKind
        name: string | null
        bytes: ArrayBuffer
        origin: string | null
        writers: string | null
      }>('SELECT seq, kind, name, bytes, origin, writers FROM handovers WHERE due <= ? ORDER BY seq', now)
      .toArray()
    for (const { writers, ...row } of rows) {
      try {
        const handover = {
          ...row,
          bytes: new Uint8Array(row.bytes),
          writers: writers === null ? [] : (JSON.parse(writers) as string[]),
        }
        await this.deliver(row.seq, handover)
      } catch {
        // Rescheduled by `failed`; the next rows still get their turn.
      }
    }
    await this.scheduleNext()
  }

  /** Hand-overs not yet delivered. */
  get pending(): number {
    return this.ctx.storage.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM handovers').one().n
  }

  private async failed(seq: number, error: unknown): Promise<void> {
    const row = this.ctx.storage.sql
      .exec<{ attempts: number }>('SELECT attempts FROM handovers WHERE seq = ?', seq)
      .toArray()[0]
    if (!row) return
    const due = Date.now() + jittered(backoffCap(row.attempts, RETRY), RETRY)
    this.ctx.storage.sql.exec('UPDATE handovers SET attempts = attempts + 1, due = ? WHERE seq = ?', due, seq)
    logLine('warn', 'hand-over failed; retried later', { seq, attempts: row.attempts + 1, error })
    await this.scheduleNext()
  }

  /** The room's alarm no later than the next due hand-over (it also serves credential expiry). */
  private async scheduleNext(): Promise<void> {
    const next = this.ctx.storage.sql.exec<{ due: number | null }>('SELECT MIN(due) AS due FROM handovers').one().due
    if (next === null || (this.armedAt !== null && this.armedAt <= next)) return
    const current = await this.ctx.storage.getAlarm()
    if (current === null || current > next) await this.ctx.storage.setAlarm(next)
    this.armedAt = Math.min(current ?? next, next)
  }
}
