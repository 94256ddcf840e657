/**
 * Once for the `consumer` project: builds and packs the packages into a
 * temporary folder (as `npm run pack` does) and starts a real edge (wrangler
 * dev, development mode). Tests read `inject('packed')` and `inject('edgeUrl')`.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestProject } from 'vitest/node'
import { buildPackages, type Packed, packPackages } from '../scripts/pack.ts'
import { startEdge } from '../scripts/test-edge.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    edgeUrl: string
    packed: Packed[]
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const packDir = mkdtempSync(join(tmpdir(), 'vivim-packed-'))
  const state = mkdtempSync(join(tmpdir(), 'vivim-consumer-edge-'))
  const edge = startEdge({ persistTo: state })
  buildPackages()
  project.provide('packed', packPackages(packDir))
  project.provide('edgeUrl', (await edge).url)
  return async () => {
    await (await edge).stop()
    for (const dir of [packDir, state]) rmSync(dir, { recursive: true, force: true })
  }
}
