/**
 * Starts a real edge (wrangler dev, development mode) once for the React
 * tests and stops it afterwards. Tests read its URL with `inject('edgeUrl')`.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestProject } from 'vitest/node'
import { startEdge } from '../../scripts/test-edge.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    edgeUrl: string
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const state = mkdtempSync(join(tmpdir(), 'vivim-react-edge-'))
  const edge = await startEdge({ persistTo: state })
  project.provide('edgeUrl', edge.url)
  return async () => {
    await edge.stop()
    rmSync(state, { recursive: true, force: true })
  }
}
