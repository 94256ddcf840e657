/**
 * The published packages as packed by `scripts/pack.ts`: one version for
 * all, the manifest fields a registry and a bundler read, tarballs with the
 * built files only, and the size budgets (bundled with esbuild, minified,
 * gzipped at level 9).
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'
import { describe, expect, inject, it } from 'vitest'
import { manifest, PACKAGE_DIRS, publishedManifest, ROOT } from '../scripts/pack.ts'

const packed = inject('packed')
const KB = 1024

async function gzippedSize(entry: string, external: string[]): Promise<number> {
  const result = await build({
    entryPoints: [join(ROOT, entry)],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    external,
    logLevel: 'silent',
  })
  const code = result.outputFiles[0]?.contents ?? new Uint8Array()
  return gzipSync(code, { level: 9 }).length
}

describe('the published packages', () => {
  it('share one version, and depend on each other at exactly that version', () => {
    const manifests = PACKAGE_DIRS.map(manifest)
    const root = manifest('.')
    const names = new Set(manifests.map((m) => m.name))
    expect([...names].sort()).toEqual(['@vivim/bridge', '@vivim/client', '@vivim/react', '@vivim/shared'])
    for (const m of manifests) {
      expect(m.version, m.name).toBe(root.version)
      for (const [dep, range] of Object.entries({ ...m.dependencies, ...m.peerDependencies })) {
        if (names.has(dep)) expect(range, `${m.name} → ${dep}`).toBe(root.version)
      }
    }
  })

  it('publish manifests with types and default for every entry point, and the fields a registry shows', () => {
    for (const dir of PACKAGE_DIRS) {
      const m = publishedManifest(manifest(dir))
      expect(m.private, m.name).toBeUndefined()
      expect(m.scripts, m.name).toBeUndefined()
      expect(m).toMatchObject({ license: 'MIT', type: 'module', files: ['dist'], engines: { node: '>=22' } })
      expect(m.repository, m.name).toMatchObject({ type: 'git', directory: dir })
      expect(m.description, m.name).toBeTypeOf('string')
      expect(m.sideEffects, m.name).toBeDefined()
      for (const [entry, target] of Object.entries(m.exports)) {
        const { types, default: js } = target as { types: string; default: string }
        expect(Object.keys(target as object), `${m.name} ${entry}`).toEqual(['types', 'default'])
        expect(existsSync(join(ROOT, dir, types)), `${m.name} ${entry} ${types}`).toBe(true)
        expect(existsSync(join(ROOT, dir, js)), `${m.name} ${entry} ${js}`).toBe(true)
      }
    }
    expect(Object.keys(publishedManifest(manifest('client')).exports)).toEqual(['.', './e2e', './node', './mesh'])
    expect(Object.keys(publishedManifest(manifest('shared')).exports)).toEqual(['.', './mesh'])
    expect(publishedManifest(manifest('node-bridge')).bin).toEqual({ 'vivim-bridge': './dist/cli.js' })
    expect(publishedManifest(manifest('react')).peerDependencies).toHaveProperty('react')
  })

  it('pack the built files only: no sources, tests or fixtures', () => {
    expect(packed.map((p) => p.name)).toEqual(PACKAGE_DIRS.map((dir) => manifest(dir).name))
    for (const p of packed) {
      for (const file of p.files) {
        expect(file, p.name).toMatch(/^(package\.json|README\.md|dist\/.+\.(js|d\.ts))$/)
      }
      expect(p.files, p.name).toContain('dist/index.js')
      expect(p.files, p.name).toContain('dist/index.d.ts')
    }
  })

  it('keep @vivim/client within 40 KB gzipped without yjs, and @vivim/react within 5 KB', async () => {
    // "Without yjs": yjs itself is left out (the app has it); lib0, y-protocols, y-indexeddb,
    // @vivim/shared and the @noble ciphers and curves are counted.
    const client = await gzippedSize('client/dist/index.js', ['yjs'])
    // @vivim/react alone: react, yjs and the SDK are the app's.
    const react = await gzippedSize('react/dist/index.js', ['react', 'react-dom', 'yjs', '@vivim/client'])
    console.log(`@vivim/client ${(client / KB).toFixed(1)} KB, @vivim/react ${(react / KB).toFixed(1)} KB (gzipped)`)
    expect(client).toBeLessThanOrEqual(40 * KB)
    expect(react).toBeLessThanOrEqual(5 * KB)
  })
})
