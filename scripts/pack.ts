/**
 * Builds the published packages (`@vivim/shared`, `@vivim/client`,
 * `@vivim/react`, `@vivim/bridge`) and packs them into `packed/` (or the
 * folder given as the first argument): `npm run pack`.
 *
 * In the repository each package's `exports` point at its TypeScript sources,
 * so tests, `npm start` and wrangler run them with no build step. The
 * published manifest comes from `publishConfig`: `exports` with `types` and
 * `default` conditions on the built `dist/` (ESM and `.d.ts`, by `tsc -p
 * <package>/tsconfig.build.json`), and the bridge's `bin`. The tarball holds
 * `dist/`, the manifest and the package's README, nothing else.
 *
 * @example
 * ```sh
 * npm run pack                # packed/vivim-client-0.1.0.tgz, …
 * npm install ./packed/vivim-client-0.1.0.tgz ./packed/vivim-shared-0.1.0.tgz yjs
 * ```
 */
import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = resolve(import.meta.dirname, '..')

/** The published packages' folders, in build order (each after what it imports). */
export const PACKAGE_DIRS = ['shared', 'client', 'react', 'node-bridge'] as const

export interface Manifest {
  name: string
  version: string
  private?: boolean
  exports: Record<string, unknown>
  bin?: Record<string, string>
  dependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
  publishConfig?: { exports?: Record<string, unknown>; bin?: Record<string, string> }
  scripts?: Record<string, string>
  [field: string]: unknown
}

export interface Packed {
  dir: string
  name: string
  version: string
  /** The tarball's absolute path. */
  tarball: string
  /** The paths inside the package. */
  files: string[]
}

export function manifest(dir: string): Manifest {
  return JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8')) as Manifest
}

/** The manifest as published: `publishConfig` applied, and nothing that only serves the repository. */
export function publishedManifest(source: Manifest): Manifest {
  const { publishConfig, scripts: _scripts, private: _private, devDependencies: _dev, ...rest } = source
  const published = { ...rest, ...publishConfig } as Manifest
  // Sources are not shipped: the bridge's command has side effects in `dist/` only.
  if (Array.isArray(published.sideEffects)) {
    published.sideEffects = (published.sideEffects as string[]).filter((path) => !path.startsWith('./src/'))
  }
  return published
}

const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')

/** Builds every package's `dist/` afresh. */
export function buildPackages(): void {
  for (const dir of PACKAGE_DIRS) {
    rmSync(join(ROOT, dir, 'dist'), { recursive: true, force: true })
    execFileSync(process.execPath, [TSC, '-p', join(ROOT, dir, 'tsconfig.build.json')], { cwd: ROOT, stdio: 'inherit' })
  }
}

/** Packs the built packages into `outDir` (created if need be); returns what it packed. */
export function packPackages(outDir: string): Packed[] {
  mkdirSync(outDir, { recursive: true })
  const stageRoot = mkdtempSync(join(tmpdir(), 'vivim-pack-'))
  try {
    return PACKAGE_DIRS.map((dir) => {
      const source = manifest(dir)
      const stage = join(stageRoot, dir)
      mkdirSync(stage)
      cpSync(join(ROOT, dir, 'dist'), join(stage, 'dist'), { recursive: true })
      if (existsSync(join(ROOT, dir, 'README.md'))) cpSync(join(ROOT, dir, 'README.md'), join(stage, 'README.md'))
      writeFileSync(join(stage, 'package.json'), `${JSON.stringify(publishedManifest(source), null, 2)}\n`)
      const out = execFileSync('npm', ['pack', '--json', '--pack-destination', resolve(outDir)], {
        cwd: stage,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      })
      const [result] = JSON.parse(out) as [{ filename: string; files: { path: string }[] }]
      return {
        dir,
        name: source.name,
        version: source.version,
        tarball: join(resolve(outDir), result.filename),
        files: result.files.map((f) => f.path),
      }
    })
  } finally {
    rmSync(stageRoot, { recursive: true, force: true })
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const outDir = resolve(process.argv[2] ?? join(ROOT, 'packed'))
  buildPackages()
  for (const packed of packPackages(outDir)) {
    console.log(`${packed.name}@${packed.version}: ${packed.tarball} (${packed.files.length} files)`)
  }
}
