/**
 * CPU time read from /proc (Linux only; null elsewhere): of a server's whole
 * process group, per command name (workerd apart from the Node that drives
 * it), of each workerd process of a `wrangler dev` (the entry one that serves
 * the port and proxies every request, and the runtime that runs the Worker),
 * and of the whole machine. The benchmarks report each figure apart, so a
 * row shows whether the server, the load generator or something else was busy.
 */
import { readdirSync, readFileSync } from 'node:fs'

export const CLOCK_TICKS_PER_SECOND = 100

/** One process of a group: its id, command name and CPU time so far. */
interface ProcStat {
  pid: number
  command: string
  /** User + system CPU, in ms. */
  cpuMs: number
}

/** The live processes of process group `pgid`; null where /proc is missing. */
function groupProcesses(pgid: number): ProcStat[] | null {
  let entries: string[]
  try {
    entries = readdirSync('/proc')
  } catch {
    return null
  }
  const found: ProcStat[] = []
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue
    let stat: string
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
    } catch {
      continue
    }
    // The command name (field 2) may hold spaces; fields after its ')' are space-separated.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // fields[0] is field 3 (state): pgrp is field 5, utime 14, stime 15.
    if (Number(fields[2]) !== pgid) continue
    const ticks = Number(fields[11]) + Number(fields[12])
    found.push({
      pid: Number(entry),
      command: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
      cpuMs: (ticks * 1000) / CLOCK_TICKS_PER_SECOND,
    })
  }
  return found
}

/** CPU time (user + system, ms) of every live process in the process group `pgid`; null where /proc is missing. */
export function groupCpuMs(pgid: number): number | null {
  const processes = groupProcesses(pgid)
  return processes === null ? null : processes.reduce((sum, p) => sum + p.cpuMs, 0)
}

/** The same, summed per command name (`workerd`, `node`, ...), to tell the runtime apart from the Node that drives it. */
export function groupCpuByCommand(pgid: number): Map<string, number> | null {
  const processes = groupProcesses(pgid)
  if (processes === null) return null
  const ms = new Map<string, number>()
  for (const p of processes) ms.set(p.command, (ms.get(p.command) ?? 0) + p.cpuMs)
  return ms
}

/** A workerd process of a `wrangler dev` group. */
export interface Workerd {
  pid: number
  /** Whether it is the entry process (it listens on the edge's port and proxies to the runtime). */
  entry: boolean
  cpuMs: number
}

/** The workerd processes of the `wrangler dev` in process group `pgid` serving `port`. */
export function workerdProcesses(pgid: number, port: number): Workerd[] {
  const found: Workerd[] = []
  for (const p of groupProcesses(pgid) ?? []) {
    if (p.command !== 'workerd') continue
    let cmdline: string
    try {
      cmdline = readFileSync(`/proc/${p.pid}/cmdline`, 'utf8')
    } catch {
      continue
    }
    found.push({ pid: p.pid, entry: cmdline.includes(`entry=127.0.0.1:${port}\0`), cpuMs: p.cpuMs })
  }
  return found
}

/** Busy CPU time (ms, all cores, everything on the machine) from /proc/stat; null where there is none. */
export function machineBusyMs(): number | null {
  let line: string
  try {
    line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? ''
  } catch {
    return null
  }
  const ticks = line.trim().split(/\s+/).slice(1).map(Number)
  // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
  const busy = ticks.slice(0, 8).reduce((a, b, i) => (i === 3 || i === 4 ? a : a + b), 0)
  return (busy * 1000) / CLOCK_TICKS_PER_SECOND
}
