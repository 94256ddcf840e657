/**
 * Ed25519 verifications per second on Node, through `@vivim/shared`:
 *
 *   node bench/crypto/ed25519.ts [--seconds 3] [--in-flight 300]
 *
 * Rows: noble (the synchronous `verify`, strict rules included); noble's
 * `ed25519.verify` alone, for reference; the strict checks alone (key
 * verdict cached); WebCrypto awaited one at a time (`verifyAsync`); WebCrypto
 * with N verifications in flight; and the platform's `crypto.subtle.verify`
 * alone, awaited one at a time. 64 signers sign 64-byte messages; every row
 * cycles through the same signatures, so imported keys come from the cache
 * as they would on a busy edge. Each row checks that every signature verified.
 *
 * Then the same signatures in workerd (`workerd.ts`: the `workerd-verify/`
 * Worker under `wrangler dev`), after checking the strict-rule vectors
 * there; `--no-workerd` skips it.
 */
import { ed25519 } from '@noble/curves/ed25519.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import {
  ed25519Backend,
  generateIdentity,
  passesStrictRules,
  sign,
  verify,
  verifyAsync,
} from '../../shared/src/index.ts'
import { flag, int, num, parseOptions } from '../lib/options.ts'
import { markdownTable } from '../lib/report-table.ts'
import { guardRun } from '../lib/run-environment.ts'
import { workerdRows } from './workerd.ts'

const values = parseOptions('node bench/crypto/ed25519.ts [flags]   (npm run bench:crypto -- [flags])', {
  seconds: num(3, 0.1, 600, 'seconds a Node row'),
  inFlight: int(300, 1, 100_000, 'verifications in flight in the concurrent rows'),
  noWorkerd: flag('skip the workerd rows'),
})
guardRun(15 * 60_000)
const SECONDS = values.seconds
const IN_FLIGHT = values.inFlight

const cases = Array.from({ length: 64 }, (_, i) => {
  const id = generateIdentity()
  const message = new Uint8Array(64).fill(i)
  return { publicKey: id.publicKey, message, signature: sign(id, message) }
})

interface Row {
  name: string
  count: number
  seconds: number
}

async function measure(name: string, run: (i: number) => boolean | Promise<boolean>, inFlight = 1): Promise<Row> {
  for (let i = 0; i < 64; i++) if (!(await run(i))) throw new Error(`${name}: a good signature did not verify`)
  const deadline = performance.now() + SECONDS * 1000
  const start = performance.now()
  let count = 0
  let failed = 0
  const worker = async () => {
    while (performance.now() < deadline) {
      if (!(await run(count++))) failed++
    }
  }
  await Promise.all(Array.from({ length: inFlight }, worker))
  const seconds = (performance.now() - start) / 1000
  if (failed > 0) throw new Error(`${name}: ${failed} good signatures did not verify`)
  return { name, count, seconds }
}

const at = (i: number) => cases[i % cases.length] as (typeof cases)[number]
const subtle = globalThis.crypto.subtle
const nativeKeys = await Promise.all(
  cases.map((c) => subtle.importKey('raw', c.publicKey, { name: 'Ed25519' }, false, ['verify'])),
)

console.log(`Node ${process.version}, backend ${await ed25519Backend()}, ${SECONDS} s a row`)
const rows: Row[] = []
rows.push(await measure('noble: verify (sync, strict)', (i) => verify(at(i).publicKey, at(i).message, at(i).signature)))
rows.push(
  await measure('noble: ed25519.verify alone', (i) => ed25519.verify(at(i).signature, at(i).message, at(i).publicKey)),
)
rows.push(await measure('strict checks alone (cached key)', (i) => passesStrictRules(at(i).publicKey, at(i).signature)))
rows.push(
  await measure('WebCrypto: verifyAsync, one at a time', (i) =>
    verifyAsync(at(i).publicKey, at(i).message, at(i).signature),
  ),
)
rows.push(
  await measure(
    `WebCrypto: verifyAsync, ${IN_FLIGHT} in flight`,
    (i) => verifyAsync(at(i).publicKey, at(i).message, at(i).signature),
    IN_FLIGHT,
  ),
)
rows.push(
  await measure('WebCrypto: subtle.verify alone, one at a time', (i) =>
    subtle.verify(
      'Ed25519',
      nativeKeys[i % cases.length] as (typeof nativeKeys)[number],
      at(i).signature,
      at(i).message,
    ),
  ),
)

const cells = rows.map((r) => {
  const perSecond = r.count / r.seconds
  return [r.name, `${r.count}`, Math.round(perSecond).toLocaleString('en'), (1e6 / perSecond).toFixed(1)]
})
console.log(markdownTable(['path', 'verifications', 'verif/s', 'µs each'], cells))

if (!values.noWorkerd) {
  const hex = cases.map((c) => ({
    publicKey: bytesToHex(c.publicKey),
    message: bytesToHex(c.message),
    signature: bytesToHex(c.signature),
  }))
  const workerd = await workerdRows(hex, IN_FLIGHT)
  console.log(`\nworkerd (wrangler dev), backend ${workerd.backend}: ${workerd.vectors}.`)
  console.log(
    'Per verification: client wall time of one request of N, less an empty request; workerd CPU from /proc.\n',
  )
  const header = ['path', 'N a request', 'µs each (wall)', 'µs each (workerd CPU)']
  const cells = workerd.rows.map((r) => [r.name, r.n.toLocaleString('en'), r.wallUs.toFixed(1), r.cpuUs.toFixed(1)])
  console.log(markdownTable(header, cells))
}
process.exit(0)
