/**
 * What a bundle holds, read from esbuild's metafile inputs: minified bytes
 * per package, the largest files, the libp2p modules in it (the main SDK
 * must have none), and the bytes spent on extra copies of one package
 * version that npm nested under several dependents.
 *
 * @example
 * ```ts
 * const m = await measureBundle(BUNDLES[0])
 * libp2pInputs(m.inputs) // [] for the main SDK
 * largestPackages(m.inputs, 10) // [{ name: 'cborg', bytes: 25_800, copies: 1 }, …]
 * ```
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { REPO_ROOT } from '../lib/child-process.ts'
import type { Measured } from './bundles.ts'

type Inputs = Measured['inputs']

/** libp2p and its own packages: `libp2p`, `@libp2p/*`, `@chainsafe/libp2p-*`, multiaddr. */
const LIBP2P = /node_modules\/(?:libp2p|@libp2p\/[^/]+|@chainsafe\/libp2p-[^/]+|@multiformats\/multiaddr)\//

/** The bundle's input files that belong to libp2p (`client/src/mesh/` counts too). */
export function libp2pInputs(inputs: Inputs): string[] {
  return Object.keys(inputs).filter((path) => LIBP2P.test(path) || path.startsWith('client/src/mesh/'))
}

/**
 * The package a file belongs to, with the folder it was installed in: the innermost
 * `node_modules/<name>` (npm nests a second version, or a copy, under the package that needs it),
 * or the first two folders for the repository's own files (`shared/src`).
 */
export function packageOf(path: string): { name: string; dir: string } {
  const nested = /^(.*node_modules\/((?:@[^/]+\/)?[^/]+))\//.exec(path)
  if (nested?.[1] && nested[2]) return { name: nested[2], dir: nested[1] }
  const dir = path.split('/').slice(0, 2).join('/')
  return { name: dir, dir }
}

/** One package's share of a bundle. */
export interface PackageShare {
  name: string
  /** Minified bytes in the output, over all its copies. */
  bytes: number
  /** Folders it was bundled from (more than 1: npm nested copies). */
  copies: number
}

/** The `count` packages that weigh most in the bundle, heaviest first. */
export function largestPackages(inputs: Inputs, count: number): PackageShare[] {
  const byName = new Map<string, { bytes: number; dirs: Set<string> }>()
  for (const [path, info] of Object.entries(inputs)) {
    const { name, dir } = packageOf(path)
    const share = byName.get(name) ?? { bytes: 0, dirs: new Set<string>() }
    share.bytes += info.bytesInOutput
    share.dirs.add(dir)
    byName.set(name, share)
  }
  return [...byName]
    .map(([name, { bytes, dirs }]) => ({ name, bytes, copies: dirs.size }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, count)
}

/** The `count` input files that weigh most in the bundle, heaviest first. */
export function largestFiles(inputs: Inputs, count: number): { path: string; bytes: number }[] {
  return Object.entries(inputs)
    .map(([path, info]) => ({ path, bytes: info.bytesInOutput }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, count)
}

/**
 * Minified bytes spent on copies of a package version already in the bundle (the same name and
 * version bundled from several folders, which esbuild cannot tell are one), with the versions
 * concerned. An app whose install dedupes them ships that much less.
 */
export function duplicateCopies(inputs: Inputs): { bytes: number; packages: string[] } {
  const byVersion = new Map<string, Map<string, number>>()
  for (const [path, info] of Object.entries(inputs)) {
    const { name, dir } = packageOf(path)
    if (!dir.includes('node_modules/')) continue
    const key = `${name}@${versionIn(dir)}`
    const dirs = byVersion.get(key) ?? new Map<string, number>()
    dirs.set(dir, (dirs.get(dir) ?? 0) + info.bytesInOutput)
    byVersion.set(key, dirs)
  }
  let bytes = 0
  const packages: string[] = []
  for (const [key, dirs] of byVersion) {
    if (dirs.size < 2) continue
    const sizes = [...dirs.values()]
    bytes += sizes.reduce((a, b) => a + b, 0) - Math.max(...sizes)
    packages.push(`${key} ×${dirs.size}`)
  }
  return { bytes, packages }
}

const versions = new Map<string, string>()
function versionIn(dir: string): string {
  let version = versions.get(dir)
  if (version === undefined) {
    const manifest = JSON.parse(readFileSync(join(REPO_ROOT, dir, 'package.json'), 'utf8')) as { version?: string }
    version = manifest.version ?? '?'
    versions.set(dir, version)
  }
  return version
}
