/**
 * An old shard's part in growing the index (`shards.ts`): once told the new
 * layout (`IndexShard.moveOut`), it walks its keys in key order, a batch per
 * alarm, and hands each key it no longer owns (its record and providers) to
 * the key's new shard, which keeps it if newer than what it holds; the key
 * leaves this shard only once the new shard has it. A pass that moved keys
 * is followed by another, and the move is done after a pass that moves
 * none, so a key whose hand-over was cut short is moved by the next pass.
 * Writes of a key this shard no longer owns are sent on to its owner
 * (`ownerOf`), so no new key of another shard lands here while it moves.
 *
 * State, in the shard's SQLite: the layout it moves to, where the pass
 * stands, and the keys moved; one row.
 */
import { ErrorCode, logLine, VivimError } from '@vivim/shared'
import { MAX_SHARDS, shardName, shardOf } from './shards.ts'

/** What an old shard is told when the index grows: its own number, and the new count. */
export interface MoveOrder {
  readonly index: number
  readonly count: number
}

/** Keys looked at per alarm. */
const MOVE_BATCH = 100

type MoveRow = {
  idx: number
  count: number
  after: string
  moved_in_pass: number
  moved: number
  done: number
}

export class ShardMove {
  private readonly sql: SqlStorage
  private row: MoveRow | null

  constructor(storage: DurableObjectStorage) {
    this.sql = storage.sql
    this.sql.exec(`CREATE TABLE IF NOT EXISTS shard_move (id INTEGER PRIMARY KEY CHECK (id = 1),
      idx INTEGER NOT NULL, count INTEGER NOT NULL, after TEXT NOT NULL, moved_in_pass INTEGER NOT NULL,
      moved INTEGER NOT NULL, done INTEGER NOT NULL)`)
    this.row = this.sql.exec<MoveRow>('SELECT * FROM shard_move').toArray()[0] ?? null
  }

  /** Starts moving to `order`'s layout; false if this shard already moves (or moved) to it. */
  start(order: MoveOrder): boolean {
    const { index, count } = order
    if (
      !Number.isSafeInteger(index) ||
      !Number.isSafeInteger(count) ||
      index < 0 ||
      index >= count ||
      count > MAX_SHARDS
    ) {
      throw new VivimError(ErrorCode.BadRequest, `no shard ${index} among ${count}`)
    }
    if (this.row?.idx === order.index && this.row.count === order.count) return false
    this.sql.exec(
      `INSERT INTO shard_move (id, idx, count, after, moved_in_pass, moved, done) VALUES (1, ?, ?, '', 0, 0, 0)
       ON CONFLICT (id) DO UPDATE SET idx = excluded.idx, count = excluded.count, after = '', moved_in_pass = 0,
         moved = 0, done = 0`,
      order.index,
      order.count,
    )
    this.row = { idx: order.index, count: order.count, after: '', moved_in_pass: 0, moved: 0, done: 0 }
    return true
  }

  /** Whether keys are still to move. */
  get moving(): boolean {
    return this.row !== null && this.row.done === 0
  }

  /** This shard's name, once it knows its number. */
  get name(): string | null {
    return this.row === null ? null : shardName(this.row.idx)
  }

  /** The name of `key`'s shard when it is not this one (this shard has been told the layout); else null. */
  ownerOf(key: string): string | null {
    if (this.row === null) return null
    const owner = shardOf(key, this.row.count)
    return owner === this.row.idx ? null : shardName(owner)
  }

  /**
   * Moves the next batch: `handOver` hands one key to the named shard and
   * resolves once it has left this one. Whether keys are still to move.
   */
  async step(handOver: (key: string, to: string) => Promise<void>): Promise<boolean> {
    const row = this.row
    if (row === null || row.done === 1) return false
    const keys = this.sql
      .exec<{ key: string }>(
        `SELECT key FROM (SELECT key FROM records WHERE key > ? UNION SELECT key FROM providers WHERE key > ?)
         ORDER BY key LIMIT ?`,
        row.after,
        row.after,
        MOVE_BATCH,
      )
      .toArray()
      .map((r) => r.key)
    if (keys.length === 0) return this.endPass(row)
    const leaving = keys.flatMap((key) => {
      const to = this.ownerOf(key)
      return to === null ? [] : [{ key, to }]
    })
    await Promise.all(leaving.map(({ key, to }) => handOver(key, to)))
    this.save({ ...row, after: keys.at(-1) as string, moved_in_pass: row.moved_in_pass + leaving.length })
    return true
  }

  private endPass(row: MoveRow): boolean {
    const moved = row.moved + row.moved_in_pass
    if (row.moved_in_pass === 0) {
      this.save({ ...row, moved, done: 1 })
      logLine('info', 'index shard moved its keys', { shard: shardName(row.idx), count: row.count, moved })
      return false
    }
    this.save({ ...row, after: '', moved_in_pass: 0, moved })
    return true
  }

  private save(row: MoveRow): void {
    this.sql.exec(
      'UPDATE shard_move SET after = ?, moved_in_pass = ?, moved = ?, done = ? WHERE id = 1',
      row.after,
      row.moved_in_pass,
      row.moved,
      row.done,
    )
    this.row = row
  }
}
