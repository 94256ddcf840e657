/**
 * Builds the demo and starts the real edge (wrangler dev, on Miniflare and
 * workerd, serving the demo too) once for the SDK's tests, and stops it
 * afterwards. Tests read its URL with `inject('edgeUrl')`.
 */
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import type { TestProject } from 'vitest/node'
import { ROOT, startEdge } from '../../scripts/test-edge.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    edgeUrl: string
  }
}

function buildDemo(): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [join(ROOT, 'scripts', 'build-demo.ts')], {
      cwd: ROOT,
      stdio: 'inherit',
    })
    child.on('exit', (code) => (code === 0 ? done() : fail(new Error(`building the demo failed (${code})`))))
  })
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  await buildDemo()
  const edge = await startEdge()
  project.provide('edgeUrl', edge.url)
  return edge.stop
}
