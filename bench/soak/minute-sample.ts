/**
 * One minute of the soak as the report keeps it (`Sample`), and the series
 * the verdict judges and the plot draws, each named once here with its unit
 * and its noise floor: the least change that counts as a change at all, so
 * a megabyte of allocator slack or a few milliseconds of scheduling on a
 * shared machine is not called growth.
 */
import type { EdgeResources } from './edge-sample.ts'
import type { MinuteFigures } from './meter.ts'

/** The edge and the workload at the end of one minute (minute 0: the edge before any load). */
export interface Sample extends EdgeResources, MinuteFigures {
  minute: number
  /** ISO time of the sample. */
  at: string
  /** Sockets the clients hold open, as their WebSockets count them. */
  clientSockets: { docs: number; topics: number }
  /** Clients in the pools (connected or connecting). */
  pools: { docClients: number; subscribers: number }
  /** This load generator's own resident memory, MiB (a leak here would not be the edge's). */
  loadGenRssMiB: number
  /** Cores used over the minute; `other` is everything on the machine but the edge and the load generator. */
  cpu: { edge: number; loadGen: number; other: number | null }
}

/** A series of the per-minute samples that the verdict judges and the plot draws. */
export interface Series {
  /** Its name in the verdict's table. */
  readonly name: string
  /** Its name in the plot's legend, beside the panel's title. */
  readonly label: string
  readonly unit: string
  /** The plot's panel: memory, sockets or latency. */
  readonly panel: 'memory' | 'sockets' | 'latency'
  /** Changes smaller than this are noise. */
  readonly floor: number
  readonly value: (s: Sample) => number | null
}

const finite = (n: number) => (Number.isFinite(n) ? n : null)

/** The judged series, in the order of the verdict's table and the plot's legends. */
export const SERIES: readonly Series[] = [
  {
    name: 'memory: workerd runtime',
    label: 'workerd runtime',
    unit: 'MiB',
    panel: 'memory',
    floor: 4,
    value: (s) => s.memoryMiB.runtime,
  },
  {
    name: 'memory: workerd entry',
    label: 'workerd entry',
    unit: 'MiB',
    panel: 'memory',
    floor: 4,
    value: (s) => s.memoryMiB.entry,
  },
  {
    name: 'memory: wrangler (node)',
    label: 'wrangler (node)',
    unit: 'MiB',
    panel: 'memory',
    floor: 4,
    value: (s) => s.memoryMiB.wrangler,
  },
  {
    name: 'memory: load generator',
    label: 'load generator',
    unit: 'MiB',
    panel: 'memory',
    floor: 4,
    value: (s) => s.loadGenRssMiB,
  },
  {
    name: 'open sockets, as the clients count them',
    label: 'as the clients count them',
    unit: 'sockets',
    panel: 'sockets',
    floor: 4,
    value: (s) => s.clientSockets.docs + s.clientSockets.topics,
  },
  {
    name: 'open sockets: edge TCP connections',
    label: 'edge TCP (established)',
    unit: 'sockets',
    panel: 'sockets',
    floor: 4,
    value: (s) => s.tcp,
  },
  {
    name: 'p99 document delivery',
    label: 'documents',
    unit: 'ms',
    panel: 'latency',
    floor: 10,
    value: (s) => finite(s.latency.doc.p99),
  },
  {
    name: 'p99 topic delivery',
    label: 'topics',
    unit: 'ms',
    panel: 'latency',
    floor: 10,
    value: (s) => finite(s.latency.topic.p99),
  },
]
