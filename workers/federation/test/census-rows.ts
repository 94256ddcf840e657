/**
 * The census of a running edge (`workers/census.ts`, `GET`/`DELETE
 * /v1/dev/census`) read from Node, each object classified by what it serves,
 * and the Markdown tables the census test prints and `docs/scale.md` quotes.
 *
 * What an object serves is read from its binding and name, the way the edge
 * names its objects: a resource's own room (a document, topic, sealed document
 * or signaling room, or a topic's fan-out object, named by the resource), an
 * index shard (`shard-<n>`), a token's revocation object (`token:<id>`), an
 * identity's signaling leases (its DID), a
 * federation outbox (per destination) or inbox (per sender), a resource's
 * federation links (`topic:<name>`, `doc:<id>`), discovery (per domain),
 * nonces (per signing key), discovery budgets (per address), a bridge's link.
 * A name that is a plain word (`hub`, `global`) names nothing a request
 * brought: whatever the load, every request of its kind meets that one
 * object, so it is a singleton whatever its binding.
 */
import { markdownTable, pct } from '../../../bench/lib/report-table.ts'

/** One object instance and the requests it handled. */
export interface CensusRow {
  readonly binding: string
  readonly name: string
  readonly requests: number
}

/** What an object serves. `room` and `shard` are a resource's own; the others serve many resources or requests. */
export type ObjectRole =
  | 'room'
  | 'shard'
  | 'token'
  | 'leases'
  | 'outbox'
  | 'inbox'
  | 'links'
  | 'discovery'
  | 'nonces'
  | 'budget'
  | 'bridge link'
  | 'singleton'
  | 'other'

/** The census of the edge at `url`, busiest first. */
export async function readCensus(url: string): Promise<CensusRow[]> {
  const response = await fetch(`${url}/v1/dev/census`)
  if (response.status !== 200) throw new Error(`census at ${url}: ${response.status} ${await response.text()}`)
  return ((await response.json()) as { objects: CensusRow[] }).objects
}

/** Forgets the counts so far at `url`. */
export async function resetCensus(url: string): Promise<void> {
  const response = await fetch(`${url}/v1/dev/census`, { method: 'DELETE' })
  if (response.status !== 204) throw new Error(`census reset at ${url}: ${response.status}`)
}

/** A name that is a plain word names no resource, token, peer or shard. */
const PLAIN_WORD = /^[A-Za-z_-]{1,32}$/

/** What `row`'s object serves. */
export function roleOf(row: Pick<CensusRow, 'binding' | 'name'>): ObjectRole {
  const { binding, name } = row
  if (PLAIN_WORD.test(name)) return 'singleton'
  if (binding === 'INDEX_SHARD') return /^shard-\d+$/.test(name) ? 'shard' : 'other'
  if (/_ROOM$/.test(binding) || /FAN_?OUT/.test(binding)) return 'room'
  if (binding === 'REVOCATIONS') return name.startsWith('token:') ? 'token' : 'other'
  if (binding === 'SIGNALING_LEASES') return 'leases'
  if (binding === 'FEDERATION_OUTBOX') return 'outbox'
  if (binding === 'FEDERATION_INBOX') return 'inbox'
  if (binding === 'FEDERATION_HUB') return /^(topic|doc):/.test(name) ? 'links' : 'other'
  if (binding === 'FEDERATION_DESCRIPTORS') return 'discovery'
  if (binding === 'FEDERATION_NONCES') return 'nonces'
  if (binding === 'FEDERATION_RATE') return 'budget'
  if (binding.startsWith('BRIDGE')) return 'bridge link'
  return 'other'
}

/** Whether an object is a resource's own room or an index shard: the objects whose load is their resource's. */
export function isOwn(row: Pick<CensusRow, 'binding' | 'name'>): boolean {
  const role = roleOf(row)
  return role === 'room' || role === 'shard'
}

/** All requests of a census. */
export function totalOf(rows: readonly CensusRow[]): number {
  return rows.reduce((sum, row) => sum + row.requests, 0)
}

/** Counts of two censuses added object by object, busiest first. */
export function addCensus(...censuses: (readonly CensusRow[])[]): CensusRow[] {
  const sums = new Map<string, CensusRow>()
  for (const row of censuses.flat()) {
    const key = `${row.binding}\u0000${row.name}`
    const known = sums.get(key)
    sums.set(key, { ...row, requests: (known?.requests ?? 0) + row.requests })
  }
  return [...sums.values()].sort((a, b) => b.requests - a.requests)
}

/** A long name (a DID, a token id) shortened for a table cell; the start says which it is. */
function shortName(name: string): string {
  const short = name.replace(/did:key:z[1-9A-HJ-NP-Za-km-z]{44,}/g, (did) => `did:key:${did.slice(8, 14)}…`)
  return short.length > 48 ? `${short.slice(0, 45)}…` : short
}

/** The `top` busiest objects that are not a resource's own room or shard, with their shares. */
export function othersTable(rows: readonly CensusRow[], top = 8): string {
  const total = totalOf(rows)
  const others = rows.filter((row) => !isOwn(row)).slice(0, top)
  return markdownTable(
    ['object (binding: name)', 'serves', 'requests', 'share'],
    others.map((r) => [
      `${r.binding}: \`${shortName(r.name)}\``,
      roleOf(r),
      String(r.requests),
      share(r.requests, total),
    ]),
    'llrr',
  )
}

/** Requests and objects by binding, with the busiest object of each and its share of all requests. */
export function bindingsTable(rows: readonly CensusRow[]): string {
  const total = totalOf(rows)
  const bindings = [...new Set(rows.map((r) => r.binding))]
  const lines = bindings
    .map((binding) => {
      const of = rows.filter((r) => r.binding === binding)
      const busiest = of[0] as CensusRow
      return { binding, objects: of.length, requests: totalOf(of), busiest }
    })
    .sort((a, b) => b.requests - a.requests)
    .map((b) => [
      b.binding,
      String(b.objects),
      String(b.requests),
      share(b.requests, total),
      `\`${shortName(b.busiest.name)}\` (${roleOf(b.busiest)}): ${share(b.busiest.requests, total)}`,
    ])
  return markdownTable(['binding', 'objects', 'requests', 'share', 'busiest object: its share'], lines, 'lrrrl')
}

/** `part` of `total` as a percentage with one decimal under 10%. */
export function share(part: number, total: number): string {
  if (total === 0) return 'n/a'
  const fraction = part / total
  return fraction < 0.1 ? `${(fraction * 100).toFixed(1)}%` : pct(fraction)
}
