/**
 * Who writes with each Yjs client id in one document. A Yjs client id names
 * a writer's sequence of structs; whoever else writes with it can take the
 * clocks its owner will use next, and the owner's real edits are then
 * dropped as duplicates (or complete held-back content under the owner's
 * name). So the first identity to write with a client id in a document owns
 * it there, and nobody else may use it. (An id announced in presence, which
 * is how others learn it, is held by its announcer's socket while it is
 * open: `DocRoom.foreignClient` asks `RoomPresence`; presence alone claims
 * nothing here, so announcing ids costs the room no rows.)
 *
 * An identity is the socket's DID: a user's ids stay theirs across
 * reconnects, and the same DID may write with them from several sockets
 * (tabs), since it can only hurt itself. Sockets without a DID (development
 * mode without a token, federation's link) own their ids only while they
 * are open: `socket:<id>` rows, dropped when the socket goes.
 *
 * State: the room's SQLite table `doc_client_owner`, one row per client id
 * that ever wrote to or announced itself in the document, the same order of
 * growth as the document's own state vector; a read-through cache in memory.
 */
import { type SocketState, socketState } from './socket-state.ts'

/** The key a socket's client ids are owned under. */
export function ownerKey(state: SocketState): string {
  return state.did ?? `socket:${state.sid}`
}

export class ClientOwners {
  private readonly sql: SqlStorage
  private readonly cache = new Map<number, string | null>()

  /** `live` are the room's sockets now: rows of DID-less sockets that did not survive a restart are dropped. */
  constructor(sql: SqlStorage, live: readonly WebSocket[]) {
    this.sql = sql
    sql.exec(`CREATE TABLE IF NOT EXISTS doc_client_owner (client INTEGER PRIMARY KEY, owner TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS doc_client_owner_by_owner ON doc_client_owner (owner);`)
    const alive = new Set(live.map((ws) => ownerKey(socketState(ws))))
    const stale = sql
      .exec<{ owner: string }>("SELECT DISTINCT owner FROM doc_client_owner WHERE owner LIKE 'socket:%'")
      .toArray()
      .filter(({ owner }) => !alive.has(owner))
    for (const { owner } of stale) sql.exec('DELETE FROM doc_client_owner WHERE owner = ?', owner)
  }

  /**
   * The first of `clients` that someone other than `key` holds, or null: an identity that wrote
   * with it here, or, when `announcer` is given, the identity announcing it in presence now.
   */
  foreign(
    clients: Iterable<number>,
    key: string,
    announcer: (client: number) => string | undefined = () => undefined,
  ): number | null {
    for (const client of clients) {
      const owner = this.ownerOf(client) ?? announcer(client)
      if (owner != null && owner !== key) return client
    }
    return null
  }

  /** Makes `key` the owner of those of `clients` nobody owns yet. */
  claim(clients: Iterable<number>, key: string): void {
    for (const client of clients) {
      if (this.ownerOf(client) !== null) continue
      this.sql.exec('INSERT OR IGNORE INTO doc_client_owner (client, owner) VALUES (?, ?)', client, key)
      this.cache.set(client, key)
    }
  }

  /** A DID-less socket left: the ids it held are free again. */
  release(key: string): void {
    if (!key.startsWith('socket:')) return
    this.sql.exec('DELETE FROM doc_client_owner WHERE owner = ?', key)
    for (const [client, owner] of this.cache) if (owner === key) this.cache.delete(client)
  }

  private ownerOf(client: number): string | null {
    let owner = this.cache.get(client)
    if (owner === undefined) {
      owner =
        this.sql.exec<{ owner: string }>('SELECT owner FROM doc_client_owner WHERE client = ?', client).toArray()[0]
          ?.owner ?? null
      this.cache.set(client, owner)
    }
    return owner
  }
}
