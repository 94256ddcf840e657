/**
 * The Gossipsub phases of the mesh benchmark, the same for bridges and for
 * the plain-Gossipsub anchor: a steady rate from rotating publishers
 * (publish-to-delivery latency), then a burst from one node (messages a
 * second delivered to every other node). Deliveries are matched by id,
 * whatever order the threads report in.
 */
import { sleep } from '../lib/child-process.ts'
import { count, ms } from '../lib/report-table.ts'
import { progress } from '../lib/run-environment.ts'
import { type LatencySummary, summarize } from '../lib/stats.ts'
import { now } from '../lib/worker-pool.ts'
import type { ThreadEvent } from './bridge-thread.ts'
import type { Mesh } from './mesh.ts'

/** What one mesh did in the two phases. */
export interface GossipResult {
  steady: { sent: number; complete: number; deliveries: number; latency: LatencySummary; rate: number }
  burst: {
    sent: number
    complete: number
    deliveries: number
    latency: LatencySummary
    seconds: number
    /** CPU time of the whole process (all ten node threads) from the burst's start to its last delivery, ms. */
    cpuMs: number
    /** Connections closed, all nodes, while the burst ran. */
    connectionsClosed: number
  }
  /** Nodes each message must reach (all but its publisher). */
  others: number
}

/** Runs `messages` at `rate`/s from rotating nodes, then a burst of `burst` from the first node. */
export async function runGossip(mesh: Mesh, messages: number, rate: number, burst: number): Promise<GossipResult> {
  const { bridges } = mesh
  const others = bridges.length - 1
  const sentAt = new Map<string, { at: number; from: number }>()
  // A delivery may reach this thread before its publisher's `sent`: deliveries are kept by id and matched when asked.
  const gotAt = new Map<string, Map<number, number>>()
  const closed = new Map<number, number>()
  const closedNow = () => [...closed.values()].reduce((a, b) => a + b, 0)
  const stops = bridges.map((bridge) =>
    bridge.listen((event) => {
      if (event.type === 'state') closed.set(bridge.index, event.connectionsClosed)
      if (event.type === 'sent') sentAt.set(event.id, { at: event.at, from: bridge.index })
      if (event.type !== 'got') return
      const got = gotAt.get(event.id) ?? new Map<number, number>()
      got.set(bridge.index, event.at)
      gotAt.set(event.id, got)
    }),
  )
  const deliveredTo = (id: string) => {
    const from = sentAt.get(id)?.from
    return [...(gotAt.get(id)?.keys() ?? [])].filter((index) => index !== from).length
  }
  const sentSince = (since: number) => [...sentAt].filter(([, s]) => s.at >= since).map(([id]) => id)
  const timings = (ids: string[]) => {
    const latencies: number[] = []
    let last = 0
    for (const id of ids) {
      const sent = sentAt.get(id)
      if (!sent) continue
      for (const [index, at] of gotAt.get(id) ?? []) {
        if (index === sent.from) continue
        latencies.push(at - sent.at)
        last = Math.max(last, at)
      }
    }
    return { latencies, last }
  }
  const waitDelivered = async (expected: number, since: number, guardMs: number) => {
    const end = Date.now() + guardMs
    let ids = sentSince(since)
    while (Date.now() < end) {
      ids = sentSince(since)
      if (ids.length === expected && ids.every((id) => deliveredTo(id) >= others)) break
      await sleep(20)
    }
    return ids
  }
  const completeOf = (ids: string[]) => ids.filter((id) => deliveredTo(id) >= others).length
  const deliveriesOf = (ids: string[]) => ids.reduce((sum, id) => sum + deliveredTo(id), 0)

  progress(`gossipsub: ${messages} messages at ${rate}/s`)
  const steadyStart = now()
  for (let i = 0; i < messages; i++) {
    const wait = steadyStart + (i * 1000) / rate - now()
    if (wait > 0) await sleep(wait)
    bridges[i % bridges.length]?.send({ type: 'publish', text: `steady ${i}` })
  }
  const steady = await waitDelivered(messages, steadyStart, 30_000)

  // The burst's envelopes are signed before it starts: it measures the mesh, not its author.
  const publisher = bridges[0]
  if (!publisher) throw new Error('an empty mesh')
  const prepared = publisher.next((e): e is Extract<ThreadEvent, { type: 'prepared' }> => e.type === 'prepared')
  publisher.send({ type: 'prepare', count: burst })
  await prepared
  progress(`gossipsub: burst of ${burst} from one node`)
  const closedBefore = closedNow()
  const cpuBefore = process.cpuUsage()
  const burstStart = now()
  publisher.send({ type: 'burst' })
  const burstIds = await waitDelivered(burst, burstStart, 90_000)
  const cpu = process.cpuUsage(cpuBefore)
  // State arrives every 250 ms: wait for one more round so closes near the end are counted.
  await sleep(300)
  const connectionsClosed = closedNow() - closedBefore
  for (const stop of stops) stop()
  // Until the last delivery, not the end of the wait: a message that never arrives must not dilute the rate.
  const burstTimings = timings(burstIds)
  return {
    others,
    steady: {
      sent: messages,
      complete: completeOf(steady),
      deliveries: deliveriesOf(steady),
      latency: summarize(timings(steady).latencies),
      rate,
    },
    burst: {
      sent: burst,
      complete: completeOf(burstIds),
      deliveries: deliveriesOf(burstIds),
      latency: summarize(burstTimings.latencies),
      seconds: (burstTimings.last - burstStart) / 1000,
      cpuMs: (cpu.user + cpu.system) / 1000,
      connectionsClosed,
    },
  }
}

/** The two Markdown table rows of a `runGossip` result, each measure prefixed by `label`. */
export function gossipRows(label: string, r: GossipResult): string[][] {
  const { steady, burst, others } = r
  return [
    [
      `${label}, ${steady.rate}/s, rotating publishers`,
      `${count(steady.complete)}/${count(steady.sent)} to all ${others} (${count(steady.deliveries)}/${count(steady.sent * others)} deliveries)`,
      ms(steady.latency.p50),
      ms(steady.latency.p99),
      `${count(steady.rate * others)} deliveries`,
    ],
    [
      `${label}, burst from one node (latency = queueing)`,
      `${count(burst.complete)}/${count(burst.sent)} to all ${others}`,
      ms(burst.latency.p50),
      ms(burst.latency.p99),
      `${count(burst.complete / burst.seconds)} messages (${count((burst.complete * others) / burst.seconds)} deliveries)`,
    ],
  ]
}

/** A row of the burst-cost table: wall time, CPU of all nodes per message, cores busy, connections closed. */
export function burstCostRow(label: string, r: GossipResult): string[] {
  const { burst } = r
  return [
    label,
    `${burst.seconds.toFixed(2)} s`,
    `${(burst.cpuMs / burst.sent).toFixed(2)} ms`,
    (burst.cpuMs / 1000 / burst.seconds).toFixed(2),
    count(burst.connectionsClosed),
  ]
}

/** Whether every message of both phases reached every other node. */
export function allDelivered(r: GossipResult): boolean {
  return r.steady.complete === r.steady.sent && r.burst.complete === r.burst.sent
}
