/**
 * What the soak reads of the edge from outside it each minute, from /proc
 * (Linux; null elsewhere), so that measuring costs the edge nothing:
 *
 * - memory: the resident set (VmRSS) of the `wrangler dev` process group's
 *   processes: the workerd runtime that runs the Worker and its Durable
 *   Objects, the workerd entry process in front of it (it serves the port),
 *   and wrangler's own Node processes;
 * - sockets: the established TCP connections whose local port is the edge's,
 *   as the kernel counts them: the clients' WebSockets plus the HTTP
 *   connections their fetches keep alive;
 * - CPU: cores the edge, this load generator and everything else used since
 *   the last sample, so a slow minute can be told apart from a busy machine.
 */
import { readdirSync, readFileSync } from 'node:fs'
import type { WranglerServer } from '../lib/edge-process.ts'
import { machineBusyMs } from '../lib/process-cpu.ts'

/** One sample of the edge's resources. */
export interface EdgeResources {
  /** MiB resident: the workerd runtime, the workerd entry process, wrangler's Node processes. */
  memoryMiB: { runtime: number | null; entry: number | null; wrangler: number | null }
  /** Established TCP connections to the edge's port; null without /proc/net/tcp. */
  tcp: number | null
}

/** The memory of `edge`'s processes, MiB resident (null: none found, or no /proc). */
export function edgeMemoryMiB(edge: WranglerServer): EdgeResources['memoryMiB'] {
  const byPid = groupRssMiB(edge.pid)
  const sum = (pids: number[]) => {
    const found = pids.flatMap((pid) => byPid.get(pid)?.mib ?? [])
    return found.length === 0 ? null : found.reduce((a, b) => a + b, 0)
  }
  const workerd = edge.workerd()
  const node = [...byPid].flatMap(([pid, p]) => (p.name === 'node' ? [pid] : []))
  return {
    runtime: sum(workerd.filter((w) => !w.entry).map((w) => w.pid)),
    entry: sum(workerd.filter((w) => w.entry).map((w) => w.pid)),
    wrangler: sum(node),
  }
}

/** The name and VmRSS (MiB) of every process of group `pgid`, by process id. */
function groupRssMiB(pgid: number): Map<number, { name: string; mib: number }> {
  const found = new Map<number, { name: string; mib: number }>()
  let entries: string[] = []
  try {
    entries = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))
  } catch {}
  for (const pid of entries) {
    let status: string
    try {
      status = readFileSync(`/proc/${pid}/status`, 'utf8')
    } catch {
      continue // gone since the listing
    }
    const field = (name: string) => new RegExp(`^${name}:\\s*(\\S+)`, 'm').exec(status)?.[1]
    if (Number(field('NSpgid')) !== pgid) continue
    found.set(Number(pid), { name: field('Name') ?? '?', mib: Number(field('VmRSS') ?? 0) / 1024 })
  }
  return found
}

/** Established TCP connections (IPv4 and IPv6) whose local port is `port`; null without /proc/net. */
export function establishedTo(port: number): number | null {
  let found = 0
  let read = false
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let table: string
    try {
      table = readFileSync(file, 'utf8')
    } catch {
      continue
    }
    read = true
    for (const line of table.split('\n').slice(1)) {
      // sl local_address rem_address st ...: addresses are HEXIP:HEXPORT, state 01 is ESTABLISHED.
      const [, local, , state] = line.trim().split(/\s+/)
      if (state === '01' && Number.parseInt(local?.split(':')[1] ?? '', 16) === port) found++
    }
  }
  return read ? found : null
}

/** Cores used since the last call: by the edge, by this process, and by everything else on the machine. */
export class CpuMeter {
  private last: { at: number; edge: number; self: number; machine: number | null }
  private readonly edgeCpuMs: () => number | null

  constructor(edgeCpuMs: () => number | null) {
    this.edgeCpuMs = edgeCpuMs
    this.last = this.now()
  }

  private now() {
    const self = process.cpuUsage()
    return {
      at: performance.now(),
      edge: this.edgeCpuMs() ?? 0,
      self: (self.user + self.system) / 1000,
      machine: machineBusyMs(),
    }
  }

  /** Cores (CPU ms per ms) since the last call; `other` is null where /proc/stat is missing. */
  take(): { edge: number; loadGen: number; other: number | null } {
    const now = this.now()
    const span = now.at - this.last.at
    const edge = (now.edge - this.last.edge) / span
    const loadGen = (now.self - this.last.self) / span
    const machine = now.machine === null || this.last.machine === null ? null : (now.machine - this.last.machine) / span
    this.last = now
    return { edge, loadGen, other: machine === null ? null : Math.max(0, machine - edge - loadGen) }
  }
}
