/**
 * Which peers federate which topic or document, and whether the peer is
 * the document's home or a replica: the `links` table. `FederationHub`
 * keeps one per resource (the object named `topic:<name>` or `doc:<id>`,
 * asked for every stored message or flush) and the instance's list of all
 * of them in the object named `hub` (asked for recovery, revocations and
 * status). Links are kept until the instance's storage is: they are what
 * this instance agreed to with its peers, not a cache.
 *
 * @example
 * ```ts
 * const table = new LinkTable(ctx.storage.sql)
 * table.link('topic', 'circle:messages:c1', 'b.example', 'peer') // true: a new link
 * table.of('topic', 'circle:messages:c1') // [{ peer: 'b.example', role: 'peer' }]
 * ```
 */

export type LinkKind = 'topic' | 'doc'
/** A link's role: `home` is the peer a document is homed at, `replica` one that holds a copy, `peer` for topics. */
export type LinkRole = 'peer' | 'home' | 'replica'

/** One link, as the instance's list holds it. */
export interface Link {
  readonly kind: LinkKind
  readonly name: string
  readonly peer: string
  readonly role: LinkRole
}

export class LinkTable {
  private readonly sql: SqlStorage

  constructor(sql: SqlStorage) {
    this.sql = sql
    sql.exec(`CREATE TABLE IF NOT EXISTS links (kind TEXT NOT NULL, name TEXT NOT NULL, peer TEXT NOT NULL,
        role TEXT NOT NULL, PRIMARY KEY (kind, name, peer))`)
  }

  /** Records a link; true if it is new. */
  link(kind: LinkKind, name: string, peer: string, role: LinkRole): boolean {
    return this.sql.exec('INSERT OR IGNORE INTO links VALUES (?, ?, ?, ?)', kind, name, peer, role).rowsWritten > 0
  }

  /** The peers linked to a topic or document, with their roles. */
  of(kind: LinkKind, name: string): { peer: string; role: LinkRole }[] {
    return this.sql
      .exec<{ peer: string; role: LinkRole }>('SELECT peer, role FROM links WHERE kind = ? AND name = ?', kind, name)
      .toArray()
  }

  /** The links one peer has. */
  with(peer: string): Omit<Link, 'peer'>[] {
    return this.sql
      .exec<{ kind: LinkKind; name: string; role: LinkRole }>('SELECT kind, name, role FROM links WHERE peer = ?', peer)
      .toArray()
  }

  /** Every peer linked to anything. */
  peers(): string[] {
    return this.sql
      .exec<{ peer: string }>('SELECT DISTINCT peer FROM links')
      .toArray()
      .map((r) => r.peer)
  }

  /** Every link held. */
  all(): Link[] {
    return this.sql
      .exec<{ kind: LinkKind; name: string; peer: string; role: LinkRole }>('SELECT * FROM links')
      .toArray()
  }

  /** How many links are held. */
  count(): number {
    return this.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM links').one().n
  }
}
