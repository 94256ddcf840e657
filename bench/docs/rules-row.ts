/**
 * One row of the rules benchmark: one edge, one offered rate, a fresh
 * `conversation:<uuid>` document with a fresh owner, run by `load-row.ts`.
 *
 * The observer holds the owner's own token (self-issued, read and write) and
 * connects first, so the document is created and owned by it; it never
 * writes. Each sender has its own Ed25519 identity and token: a grant from
 * the owner (read, write) and the sender's invocation of it addressed to
 * the edge's DID, as an app would hold them; it appends messages
 * `{ id, author: <own DID>, text, ts }` (`rules-load.ts`), so the room's
 * rules run on every update. Then warm-up, measured window, stop, and the
 * completeness check: the observer and every sender must hold every
 * message within the drain deadline.
 */
import { randomUUID } from 'node:crypto'
import { type Action, encodeCapabilityText, generateIdentity, type Identity, issueCapability } from '@vivim/shared'
import type { RowOptions } from './cli-options.ts'
import { CONNECT_MS, type LoadRow, runLoadRow } from './load-row.ts'
import { openRulesObserver } from './observer.ts'
import type { Edge, Side } from './rules-edges.ts'

/** A row of `rules.ts`: which side, which round of its rate, on which document. */
export interface RulesRow extends LoadRow {
  side: Side
  round: number
  docId: string
}

const HOUR_MS = 3_600_000
const CAN: Action[] = ['read', 'write']

/** `user`'s token for the document, addressed to the edge: self-issued by the owner, else an invocation of its grant. */
function token(owner: Identity, user: Identity, edgeDid: string, docId: string): string {
  const res = `doc:${docId}`
  const exp = Date.now() + HOUR_MS
  const prf = user === owner ? [] : [issueCapability(owner, { aud: user.did, res, can: CAN, exp })]
  return encodeCapabilityText(issueCapability(user, { aud: edgeDid, res, can: CAN, exp, prf }))
}

/** Runs one row of `rate` messages/s on `edge`. */
export async function runRulesRow(edge: Edge, options: RowOptions, rate: number, round: number): Promise<RulesRow> {
  const docId = `conversation:${randomUUID()}`
  const owner = generateIdentity()
  const senders = Array.from({ length: options.clients }, () => generateIdentity())
  const sender = (c: number) => senders[c] as Identity
  const row = await runLoadRow(
    {
      target: edge,
      targetWord: 'edge',
      openObserver: () =>
        openRulesObserver(edge.docUrl(docId, token(owner, owner, edge.did, docId)), options.clients, CONNECT_MS),
      senders: {
        dialect: 'yjs',
        documentName: '',
        urlOf: (c) => edge.docUrl(docId, token(owner, sender(c), edge.did, docId)),
        didOf: (c) => sender(c).did,
      },
    },
    options,
    rate,
  )
  return { side: edge.side, round, docId, ...row }
}
