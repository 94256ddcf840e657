/**
 * A document's versions, in its room's SQLite: the full state at a moment
 * (chunked, as the snapshot is), when it was taken and why, its name when
 * one was given, and the DIDs that wrote since the version before.
 *
 * Versions are taken automatically when compaction runs (the log is folded
 * into the snapshot, and the state at that point is kept) and after a quiet
 * spell (no write for `QUIET_MS` after a write), and on request, named.
 * Restoring one is a new change (`doc-restore.ts`), preceded by an automatic
 * version of what it replaces, so a restore can be undone too; history is
 * never rewritten.
 *
 * Retention (`docs/protocol.md`, Version history): at most 50 automatic and
 * 50 named versions, and at most `4 × Limits.maxDocumentBytes` of version
 * state in all; past a bound the oldest automatic version goes first, then
 * the oldest named one. A version that would repeat the one before (nobody
 * wrote since) is not taken.
 *
 * @example
 * ```ts
 * const versions = new DocVersions(ctx)
 * versions.wrote(did)           // after each applied write: an author, and the quiet-spell alarm
 * versions.take('named', state, 'before launch')
 * versions.list()
 * ```
 */
import { type DocVersion, Limits, type VersionReason } from '@vivim/shared'
import { chunksOf, concat } from './doc-store.ts'

/** Why a version was taken, and a version as listed (`@vivim/shared`'s HTTP shapes). */
export type { DocVersion as VersionInfo, VersionReason } from '@vivim/shared'

/** No write for this long after a write: an automatic version. */
export const QUIET_MS = 5 * 60_000
export const MAX_AUTO_VERSIONS = 50
export const MAX_NAMED_VERSIONS = 50
export const MAX_VERSION_BYTES = 4 * Limits.maxDocumentBytes
export const MAX_VERSION_NAME_LENGTH = 100

export class DocVersions {
  private readonly ctx: DurableObjectState
  /** When the last write came (in memory: an eviction makes the next alarm take the version at once). */
  private lastWriteAt = 0
  /** When the quiet-spell alarm this instance armed is due, if it armed one. */
  private armedFor: number | null = null
  /** Authors already stored since the last version: a writer's next updates cost no storage call. */
  private readonly noted = new Set<string>()

  constructor(ctx: DurableObjectState) {
    this.ctx = ctx
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS doc_versions (id INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL, reason TEXT NOT NULL, name TEXT, authors TEXT NOT NULL, bytes INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS doc_version_chunks (version INTEGER NOT NULL, chunk INTEGER NOT NULL,
        data BLOB NOT NULL, PRIMARY KEY (version, chunk));
      CREATE TABLE IF NOT EXISTS doc_version_authors (did TEXT PRIMARY KEY);`)
  }

  /** A write was applied (by `did`, when a DID signed it): noted for the next version, and the quiet spell starts over. */
  wrote(did: string | null): void {
    if (did !== null && !this.noted.has(did)) {
      this.ctx.storage.sql.exec('INSERT OR IGNORE INTO doc_version_authors (did) VALUES (?)', did)
      this.noted.add(did)
    }
    this.lastWriteAt = Date.now()
    // One alarm per quiet spell, not one storage call per write: the alarm looks again when it fires.
    if (this.armedFor === null) void this.arm(this.lastWriteAt + QUIET_MS)
  }

  /** Whether anything was written since the last version. */
  get changed(): boolean {
    return (
      this.ctx.storage.sql.exec('SELECT 1 FROM doc_version_authors LIMIT 1').toArray().length > 0 ||
      this.lastWriteAt > 0
    )
  }

  /**
   * The alarm's part: after a quiet spell, `take` a version; while writes go on, look again when the
   * spell after the last one ends. Returns whether a version is due now.
   */
  async quietSpellOver(): Promise<boolean> {
    this.armedFor = null
    if (!this.changed) return false
    const due = this.lastWriteAt + QUIET_MS
    if (this.lastWriteAt > 0 && due > Date.now()) {
      await this.arm(due)
      return false
    }
    return true
  }

  /** Keeps `state` as a version; an automatic one is skipped when nobody wrote since the last. */
  take(reason: VersionReason, state: Uint8Array, name: string | null = null): DocVersion | null {
    const { sql } = this.ctx.storage
    const authors = sql
      .exec<{ did: string }>('SELECT did FROM doc_version_authors ORDER BY did')
      .toArray()
      .map((r) => r.did)
    if (reason !== 'named' && !this.changed) return null
    const at = Date.now()
    let id = 0
    this.ctx.storage.transactionSync(() => {
      id = sql
        .exec<{ id: number }>(
          'INSERT INTO doc_versions (at, reason, name, authors, bytes) VALUES (?, ?, ?, ?, ?) RETURNING id',
          at,
          reason,
          name,
          JSON.stringify(authors),
          state.length,
        )
        .one().id
      for (const [chunk, data] of chunksOf(state)) {
        sql.exec('INSERT INTO doc_version_chunks (version, chunk, data) VALUES (?, ?, ?)', id, chunk, data)
      }
      sql.exec('DELETE FROM doc_version_authors')
      this.retain()
    })
    this.noted.clear()
    this.lastWriteAt = 0
    return { id, at, reason, name, authors, bytes: state.length }
  }

  /** Every version kept, newest first. */
  list(): DocVersion[] {
    return this.ctx.storage.sql
      .exec<{ id: number; at: number; reason: string; name: string | null; authors: string; bytes: number }>(
        'SELECT id, at, reason, name, authors, bytes FROM doc_versions ORDER BY id DESC',
      )
      .toArray()
      .map((r) => ({ ...r, reason: r.reason as VersionReason, authors: JSON.parse(r.authors) as string[] }))
  }

  /** A version's state (a Yjs update from nothing), or null when it is not kept. */
  state(id: number): Uint8Array | null {
    const chunks = this.ctx.storage.sql
      .exec<{ data: ArrayBuffer }>('SELECT data FROM doc_version_chunks WHERE version = ? ORDER BY chunk', id)
      .toArray()
      .map((r) => new Uint8Array(r.data))
    if (chunks.length === 0) {
      const empty = this.ctx.storage.sql.exec('SELECT 1 FROM doc_versions WHERE id = ? AND bytes = 0', id).toArray()
      return empty.length > 0 ? new Uint8Array(0) : null
    }
    return concat(chunks)
  }

  /** Drops every version (the document was deleted). */
  clear(): void {
    this.ctx.storage.sql.exec(
      'DELETE FROM doc_versions; DELETE FROM doc_version_chunks; DELETE FROM doc_version_authors',
    )
    this.lastWriteAt = 0
  }

  /** Oldest automatic versions first, then oldest named ones, until every bound holds. */
  private retain(): void {
    const { sql } = this.ctx.storage
    const count = (named: boolean) =>
      sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM doc_versions WHERE reason ${named ? '=' : '!='} 'named'`).one()
        .n
    const bytes = () => sql.exec<{ n: number | null }>('SELECT SUM(bytes) AS n FROM doc_versions').one().n ?? 0
    const dropOldest = (named: boolean) => {
      const row = sql
        .exec<{ id: number }>(
          `SELECT id FROM doc_versions WHERE reason ${named ? '=' : '!='} 'named' ORDER BY id LIMIT 1`,
        )
        .toArray()[0]
      if (row === undefined) return false
      sql.exec('DELETE FROM doc_versions WHERE id = ?', row.id)
      sql.exec('DELETE FROM doc_version_chunks WHERE version = ?', row.id)
      return true
    }
    while (count(false) > MAX_AUTO_VERSIONS && dropOldest(false)) {}
    while (count(true) > MAX_NAMED_VERSIONS && dropOldest(true)) {}
    while (bytes() > MAX_VERSION_BYTES && (dropOldest(false) || dropOldest(true))) {}
  }

  /** The room's alarm no later than `at` (it also serves hand-over retries and credential expiry). */
  private async arm(at: number): Promise<void> {
    this.armedFor = at
    const current = await this.ctx.storage.getAlarm()
    if (current === null || current > at) await this.ctx.storage.setAlarm(at)
  }
}
