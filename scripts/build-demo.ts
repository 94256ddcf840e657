/**
 * Bundles the demo (`client/demo/app.ts` with the SDK, Yjs and the wire
 * core) into `client/demo/public/app.js`, which the edge serves as a static
 * asset next to its routes. `npm start` runs it first.
 */
import { resolve } from 'node:path'
import { build } from 'esbuild'

const root = resolve(import.meta.dirname, '..')
await build({
  entryPoints: [resolve(root, 'client/demo/app.ts')],
  outfile: resolve(root, 'client/demo/public/app.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  logLevel: 'warning',
})
console.log('demo built: client/demo/public/app.js')
