/**
 * Federation's routes (protocol: `docs/federation.md`):
 *
 *   GET  /.well-known/vivim                the signed instance descriptor
 *   GET  /v1/federation/discover           `?domain=&limit=`: discovery by domain, following peer lists
 *   POST /v1/federation/inbox              a signed transaction from another instance
 *   GET  /v1/federation/records/<key>      a record held here, for a signed peer
 *   GET  /v1/federation/status             outboxes and links (development only)
 */
import {
  createDescriptor,
  DISCOVER_RATE_LIMIT,
  decodeTransaction,
  ErrorCode,
  FederationCapability,
  Limits,
  parseDomain,
  VivimError,
} from '@vivim/shared'
import { Hono } from 'hono'
import { version } from '../../package.json'
import { edgeIdentity } from '../auth/edge-identity.ts'
import type { AppEnv } from '../http/types.ts'
import { pathKey } from '../indexer/request-input.ts'
import { callerBudget, discover, WELL_KNOWN_PATH } from './discovery.ts'
import { federationHub } from './hub.ts'
import { FEDERATION_LANES, inboxName, MAX_LANE, outboxName } from './lanes.ts'
import { requireFederation, verifySigned } from './signed-request.ts'

export const federation = new Hono<AppEnv>()

federation.get(WELL_KNOWN_PATH, (c) => {
  const config = requireFederation(c.env)
  const signed = createDescriptor(edgeIdentity(c.env), {
    domain: config.domain,
    version,
    capabilities: config.capabilities,
    peers: config.peers,
    allowHttp: config.allowHttp,
  })
  return c.json(signed, 200, { 'Cache-Control': 'public, max-age=300' })
})

federation.get('/v1/federation/discover', async (c) => {
  requireFederation(c.env)
  const asked = c.req.query('domain')
  if (!asked) throw new VivimError(ErrorCode.InvalidQuery, 'domain is required')
  // A domain that cannot be one is refused before it spends any of the caller's budget.
  const domain = parseDomain(asked)
  const limitText = c.req.query('limit') ?? String(Limits.defaultPageSize)
  const limit = Number(limitText)
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > Limits.maxFederationPeers) {
    throw new VivimError(ErrorCode.InvalidLimit, `limit is 1 to ${Limits.maxFederationPeers}`)
  }
  // Each request pays one from the caller's budget (whether or not it fetches), each further fetch one more.
  const budget = callerBudget(c.env, c.req.raw)
  if (!(await budget())) {
    const { requests, windowMs } = DISCOVER_RATE_LIMIT
    throw new VivimError(ErrorCode.RateLimited, `at most ${requests} discoveries per ${windowMs / 1000} s per caller`)
  }
  return c.json({ instances: await discover(c.env, { domain, limit }, budget) })
})

federation.post('/v1/federation/inbox', async (c) => {
  const { peer, body } = await verifySigned(c.env, c.req.raw, { transaction: true })
  const tx = decodeTransaction(body)
  if (tx.from !== peer.did) throw new VivimError(ErrorCode.InvalidSignature, 'the transaction is from another instance')
  if (tx.to !== edgeIdentity(c.env).did)
    throw new VivimError(ErrorCode.BadRequest, 'the transaction is for another instance')
  const lane = laneParam(c.req.query('lane'))
  // A peer that sends is up: what waits for it here (in this lane) need not sit out its back-off.
  c.executionCtx.waitUntil(c.env.FEDERATION_OUTBOX.getByName(outboxName(peer.domain, lane)).wake())
  return c.json(await c.env.FEDERATION_INBOX.getByName(inboxName(peer.did, lane)).receive(peer, body))
})

federation.get('/v1/federation/records/:key{.+}', async (c) => {
  const key = pathKey(c)
  const { peer } = await verifySigned(c.env, c.req.raw)
  if (!requireFederation(c.env).capabilities.includes(FederationCapability.Records)) {
    throw new VivimError(ErrorCode.NotFound, 'records do not federate here')
  }
  const kept = await c.env.RECORDS.get(key, 'arrayBuffer')
  if (kept === null) throw new VivimError(ErrorCode.NotFound, `no record for this key here (asked by ${peer.domain})`)
  return c.body(kept, 200, { 'Content-Type': 'application/cbor' })
})

federation.get('/v1/federation/status', async (c) => {
  const config = requireFederation(c.env)
  if (c.env.VIVIM_ENV !== 'development') throw new VivimError(ErrorCode.NotFound, 'status is for development only')
  const summary = await federationHub(c.env).summary()
  const domains = [...new Set([...config.peers, ...summary.links.map((l) => l.peer)])]
  const outboxes = await Promise.all(domains.map((d) => outboxStatus(c.env, d)))
  return c.json({ did: edgeIdentity(c.env).did, domain: config.domain, ...summary, outboxes })
})

/** `?lane=` of an inbox request: absent is lane 0; anything but a whole number up to `MAX_LANE` is refused. */
function laneParam(value: string | undefined): number {
  if (value === undefined) return 0
  const lane = Number(value)
  if (!/^\d{1,2}$/.test(value) || lane > MAX_LANE) {
    throw new VivimError(ErrorCode.BadRequest, `lane is a whole number from 0 to ${MAX_LANE}`)
  }
  return lane
}

/** A destination's outboxes as one (for the status page): what waits in all lanes, the worst of their states. */
async function outboxStatus(env: Env, domain: string) {
  const lanes = await Promise.all(
    Array.from({ length: FEDERATION_LANES }, (_, lane) =>
      env.FEDERATION_OUTBOX.getByName(outboxName(domain, lane)).status(),
    ),
  )
  const worst = lanes.reduce((a, b) => (b.failures > a.failures ? b : a))
  return {
    ...worst,
    domain,
    pending: lanes.reduce((n, l) => n + l.pending, 0),
    lastError: lanes.find((l) => l.lastError !== null)?.lastError ?? null,
  }
}
