/**
 * Starts a real edge (wrangler dev, development mode) once for the React
 * tests and stops it afterwards. Tests read its URL with `inject('edgeUrl')`.
 */
import type { TestProject } from 'vitest/node'
import { startEdge } from '../../scripts/test-edge.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    edgeUrl: string
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const edge = await startEdge()
  project.provide('edgeUrl', edge.url)
  return edge.stop
}
