/**
 * Self time of a V8 CPU profile (`Profiler.stop`'s result) by where the code
 * comes from: each sampled function's position in the bundle is mapped back
 * through the bundle's source map (Node's `module.SourceMap`) to its source
 * file, which puts it in a bucket (the room's own code, Yjs, crypto, ...).
 * Functions V8 reports without a script (`(program)`, `(garbage collector)`,
 * natives) are the runtime's; `(idle)` is the isolate waiting.
 */
import { readFileSync } from 'node:fs'
import { SourceMap } from 'node:module'

export interface CpuProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number }
}

export interface CpuProfile {
  nodes: CpuProfileNode[]
  startTime: number
  endTime: number
  samples: number[]
  timeDeltas: number[]
}

export interface Bucketed {
  /** Milliseconds of self time per bucket, largest first. */
  buckets: Array<{ bucket: string; ms: number; share: number }>
  /** The functions with the most self time, with their source position. */
  functions: Array<{ name: string; where: string; bucket: string; ms: number; share: number }>
  totalMs: number
}

/** Which bucket a source path (or a script-less function) belongs to; the first match wins. */
const RULES: Array<[RegExp, string]> = [
  [/^\(idle\)$/, 'idle (isolate waiting)'],
  [/^\(garbage collector\)$/, 'runtime: garbage collection'],
  [/^\((program|root)\)$/, 'runtime: workerd / V8 outside JS'],
  [/node_modules\/(yjs|lib0|y-protocols)\//, 'Yjs (yjs, lib0, y-protocols)'],
  [/node_modules\/@noble\//, 'crypto (@noble)'],
  [/node_modules\/cborg\//, 'cborg (canonical encoding)'],
  [/(^|\/)shared\//, 'shared/ (tokens, wire, checks)'],
  [/(^|\/)workers\/.*doc/i, 'room code: workers/ document room'],
  [/(^|\/)workers\//, 'edge code: workers/ other'],
  [/node_modules\//, 'other libraries'],
]

function bucketOf(source: string): string {
  for (const [pattern, bucket] of RULES) if (pattern.test(source)) return bucket
  return source === '' ? 'runtime: native functions' : 'other bundle code'
}

/** Buckets `profile` using the source map at `mapFile` for the bundle whose URL ends with `bundleName`. */
export function bucketProfile(profile: CpuProfile, mapFile: string, bundleName: string, top = 15): Bucketed {
  const map = new SourceMap(JSON.parse(readFileSync(mapFile, 'utf8')))
  const selfUs = new Map<number, number>()
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i] as number
    // Each sample's delta is the time since the previous one: charge it to this sample's node.
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
  }
  const byBucket = new Map<string, number>()
  const byFunction = new Map<string, { name: string; where: string; bucket: string; us: number }>()
  let total = 0
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) ?? 0
    if (us === 0) continue
    total += us
    const { functionName, url, lineNumber, columnNumber } = node.callFrame
    let source = url === '' ? functionName : url
    let where = url === '' ? '' : `${url.split('/').pop()}:${lineNumber + 1}`
    if (url.endsWith(bundleName)) {
      const entry = map.findEntry(lineNumber, columnNumber)
      if ('originalSource' in entry && entry.originalSource) {
        source = entry.originalSource
        const short = source.replace(/^.*?(node_modules\/|workers\/|shared\/)/, '$1')
        where = `${short}:${entry.originalLine + 1}`
      }
    } else if (url === '' && !/^\(.*\)$/.test(functionName)) {
      source = ''
    }
    const bucket = bucketOf(source)
    byBucket.set(bucket, (byBucket.get(bucket) ?? 0) + us)
    const key = `${functionName}@${where}`
    const fn = byFunction.get(key) ?? { name: functionName || '(anonymous)', where, bucket, us: 0 }
    fn.us += us
    byFunction.set(key, fn)
  }
  const share = (us: number) => (total === 0 ? 0 : us / total)
  return {
    totalMs: total / 1000,
    buckets: [...byBucket]
      .map(([bucket, us]) => ({ bucket, ms: us / 1000, share: share(us) }))
      .sort((a, b) => b.ms - a.ms),
    functions: [...byFunction.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((f) => ({ name: f.name, where: f.where, bucket: f.bucket, ms: f.us / 1000, share: share(f.us) })),
  }
}
