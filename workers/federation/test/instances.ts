/**
 * Federated edge instances for tests on Node: each a real edge under
 * `wrangler dev` (`scripts/test-edge.ts`) with its own port, state directory
 * and Ed25519 key, its domain `127.0.0.1:<port>`, and the peers it is told
 * about. Short retry back-off so a test waits seconds, not minutes, for an
 * outbox to retry after a peer comes back.
 */
import { randomBytes } from 'node:crypto'
import { base64urlnopad } from '@scure/base'
import { type Identity, identityFromSecretKey } from '@vivim/shared'
import { freePort, type RunningEdge, startEdge } from '../../../scripts/test-edge.ts'

export interface InstancePlan {
  readonly port: number
  readonly domain: string
  readonly identity: Identity
  readonly vars: Record<string, string>
}

export interface Instance extends InstancePlan {
  edge: RunningEdge
  readonly vars: Record<string, string>
  readonly url: string
}

/** A port, key and domain for an instance, so peers can name each other before either starts. */
export async function planInstance(): Promise<InstancePlan> {
  const port = await freePort()
  const seed = new Uint8Array(randomBytes(32))
  return {
    port,
    domain: `127.0.0.1:${port}`,
    identity: identityFromSecretKey(seed),
    vars: {
      EDGE_SECRET_KEY: base64urlnopad.encode(seed),
      FEDERATION_DOMAIN: `127.0.0.1:${port}`,
      FEDERATION_RETRY_BASE_MS: '100',
      FEDERATION_RETRY_MAX_MS: '1500',
    },
  }
}

/** Two instances that list each other as peers, and their plans (to start one again from nothing). */
export async function startPair(): Promise<{ a: Instance; b: Instance; planA: InstancePlan; planB: InstancePlan }> {
  const [planA, planB] = await Promise.all([planInstance(), planInstance()])
  const [a, b] = await Promise.allSettled([
    startInstance(planA, { FEDERATION_PEERS: planB.domain }),
    startInstance(planB, { FEDERATION_PEERS: planA.domain }),
  ])
  if (a.status === 'fulfilled' && b.status === 'fulfilled') return { a: a.value, b: b.value, planA, planB }
  // One that started must not outlive the test that could not use it.
  await Promise.all([a, b].map((r) => (r.status === 'fulfilled' ? r.value.edge.stop() : null)))
  throw a.status === 'rejected' ? a.reason : (b as PromiseRejectedResult).reason
}

export async function startInstance(plan: InstancePlan, vars: Record<string, string> = {}): Promise<Instance> {
  const edge = await startEdge({ port: plan.port, vars: { ...plan.vars, ...vars } })
  return { ...plan, vars: { ...plan.vars, ...vars }, edge, url: edge.url }
}

/** Stops an instance and starts it again on the same port, state and key (and these vars changed). */
export async function restartInstance(instance: Instance, vars: Record<string, string> = {}): Promise<void> {
  await instance.edge.stop()
  Object.assign(instance.vars, vars)
  instance.edge = await startEdge({ port: instance.port, persistTo: instance.edge.persistTo, vars: instance.vars })
}

export interface FederationStatus {
  did: string
  links: { kind: string; name: string; peer: string; role: string }[]
  outboxes: { domain: string | null; pending: number; failures: number; breaker: string; lastError: string | null }[]
}

export async function statusOf(instance: { url: string }): Promise<FederationStatus> {
  const response = await fetch(`${instance.url}/v1/federation/status`)
  if (!response.ok) throw new Error(`status: ${response.status} ${await response.text()}`)
  return (await response.json()) as FederationStatus
}

/** Polls until `check` returns a value other than undefined; a hang guard, not a speed requirement. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  ms = 60_000,
): Promise<T> {
  const deadline = Date.now() + ms
  let last: unknown
  for (;;) {
    try {
      const value = await check()
      if (value !== undefined) return value
    } catch (error) {
      last = error
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** Resolves once `at` has linked `peer` to the topic or document, that is once its subscription arrived. */
export function linked(at: { url: string; domain: string }, kind: string, name: string, peer: { domain: string }) {
  return waitFor(
    `${kind} ${name} linked at ${at.domain}`,
    async () =>
      (await statusOf(at)).links.some((l) => l.kind === kind && l.name === name && l.peer === peer.domain) || undefined,
  )
}

/** The state of `from`'s outbox to `to`, if it has one. */
export async function outboxTo(from: { url: string }, to: { domain: string }) {
  return (await statusOf(from)).outboxes.find((o) => o.domain === to.domain)
}
