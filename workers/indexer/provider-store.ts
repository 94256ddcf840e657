/**
 * Provider announcements in a shard's SQLite, beside the records of the same
 * keys. An announcement lives until its expiry; reads never list an expired
 * one, and expired rows are deleted when their key is announced again and by
 * the shard's alarm, so storage holds live announcements plus at most one
 * sweep interval's worth of dead ones. A key lists at most
 * `Limits.maxProvidersPerKey`: a new peer past that replaces the one that
 * would expire soonest (the newest announcement is always kept: it is the
 * freshest sign that a peer is online).
 */
import { Limits, type ProviderAnnouncement, type ProviderEntry } from '@vivim/shared'

type ProviderRow = {
  peer: string
  multiaddrs: string
  expires_at: number
}

const toEntry = (r: ProviderRow): ProviderEntry => ({
  peer: r.peer,
  multiaddrs: JSON.parse(r.multiaddrs) as string[],
  expiresAt: r.expires_at,
})

export class ProviderStore {
  private readonly storage: DurableObjectStorage

  constructor(storage: DurableObjectStorage) {
    this.storage = storage
    storage.sql.exec(`CREATE TABLE IF NOT EXISTS providers (
        key TEXT NOT NULL, peer TEXT NOT NULL, multiaddrs TEXT NOT NULL, expires_at INTEGER NOT NULL,
        PRIMARY KEY (key, peer)) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS providers_by_expiry ON providers (expires_at);
      CREATE INDEX IF NOT EXISTS providers_by_key_expiry ON providers (key, expires_at);`)
  }

  /** Records (or renews) `announcement` for `key` at `now`; returns the stored entry. */
  announce(key: string, announcement: ProviderAnnouncement, now: number): ProviderEntry {
    const { sql } = this.storage
    const entry = { peer: announcement.peer, multiaddrs: announcement.multiaddrs, expiresAt: now + announcement.ttlMs }
    this.storage.transactionSync(() => {
      sql.exec('DELETE FROM providers WHERE key = ? AND expires_at <= ?', key, now)
      sql.exec(
        `INSERT INTO providers (key, peer, multiaddrs, expires_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (key, peer) DO UPDATE SET multiaddrs = excluded.multiaddrs, expires_at = excluded.expires_at`,
        key,
        entry.peer,
        JSON.stringify(entry.multiaddrs),
        entry.expiresAt,
      )
      sql.exec(
        `DELETE FROM providers WHERE key = ? AND peer IN (
           SELECT peer FROM providers WHERE key = ? AND peer != ? ORDER BY expires_at DESC, peer LIMIT -1 OFFSET ?)`,
        key,
        key,
        entry.peer,
        Limits.maxProvidersPerKey - 1,
      )
    })
    return entry
  }

  /** The live providers of `key`, the longest-lived first. */
  list(key: string, now: number): ProviderEntry[] {
    return this.storage.sql
      .exec<ProviderRow>(
        `SELECT peer, multiaddrs, expires_at FROM providers WHERE key = ? AND expires_at > ?
         ORDER BY expires_at DESC, peer LIMIT ?`,
        key,
        now,
        Limits.maxProvidersPerKey,
      )
      .toArray()
      .map(toEntry)
  }

  /**
   * Takes in `key`'s live `entries` from the shard the key moved from, each
   * unless this shard holds a later expiry for its peer (an announcement
   * made here since).
   */
  adopt(key: string, entries: readonly ProviderEntry[], now: number): void {
    const held = new Map(this.list(key, now).map((e) => [e.peer, e.expiresAt]))
    for (const { peer, multiaddrs, expiresAt } of entries) {
      if (expiresAt <= now || (held.get(peer) ?? 0) >= expiresAt) continue
      this.announce(key, { peer, multiaddrs, ttlMs: expiresAt - now }, now)
    }
  }

  /** Deletes every announcement of `key`: the key moved to another shard, which holds them now. */
  remove(key: string): void {
    this.storage.sql.exec('DELETE FROM providers WHERE key = ?', key)
  }

  /** Deletes every expired announcement. */
  sweep(now: number): void {
    this.storage.sql.exec('DELETE FROM providers WHERE expires_at <= ?', now)
  }

  /** When the next announcement expires, if any. */
  nextExpiry(): number | null {
    return this.storage.sql.exec<{ at: number | null }>('SELECT MIN(expires_at) AS at FROM providers').one().at
  }
}
